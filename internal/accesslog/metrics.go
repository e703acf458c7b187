package accesslog

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the access log's Prometheus series: entries appended by
// decision, failed appends, and the checks of the chain made before each
// checkpoint is signed. A nil *Metrics records nothing.
type Metrics struct {
	appends   *prometheus.CounterVec
	failures  prometheus.Counter
	verified  *prometheus.CounterVec
	verifiedT prometheus.Gauge
}

// NewMetrics registers the access log's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_access_log_appends_total",
			Help: "Access-log entries appended durably, by the read's decision (allowed or denied).",
		}, []string{"decision"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_access_log_append_failures_total",
			Help: "Access-log entries whose append failed; the reads they recorded were refused (503).",
		}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_access_log_verifications_total",
			Help: "Checks of the chain since the latest checkpoint, made before signing the next one, by outcome (ok, broken: not signed, error: could not be read).",
		}, []string{"outcome"}),
		verifiedT: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "steward_access_log_verified_seq",
			Help: "The entry up to which this node last found the chain whole (and signed it).",
		}),
	}
	reg.MustRegister(m.appends, m.failures, m.verified, m.verifiedT)
	return m
}

func (m *Metrics) appended(entries []*Entry) {
	if m == nil {
		return
	}
	for _, e := range entries {
		m.appends.WithLabelValues(string(e.Decision)).Inc()
	}
}

func (m *Metrics) appendFailed(n int) {
	if m != nil {
		m.failures.Add(float64(n))
	}
}

func (m *Metrics) verification(outcome string, seq int64) {
	if m == nil {
		return
	}
	m.verified.WithLabelValues(outcome).Inc()
	if outcome == "ok" {
		m.verifiedT.Set(float64(seq))
	}
}
