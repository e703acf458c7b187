package retention

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-privacy/steward/internal/store"
)

// Metrics are the sweeper's Prometheus series, per dataset. A nil
// *Metrics records nothing.
type Metrics struct {
	sweeps  *prometheus.CounterVec
	deleted *prometheus.CounterVec
	last    *prometheus.GaugeVec
}

// NewMetrics registers the retention metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_retention_sweeps_total",
			Help: "Retention sweeps of a dataset on this node, by outcome (ok or error).",
		}, []string{"dataset", "outcome"}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_retention_deleted_events_total",
			Help: "Events deleted because they were past their dataset's retention.",
		}, []string{"dataset"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "steward_retention_last_sweep_timestamp_seconds",
			Help: "When the last sweep of a dataset finished without error (Unix time).",
		}, []string{"dataset"}),
	}
	reg.MustRegister(m.sweeps, m.deleted, m.last)
	return m
}

func (m *Metrics) swept(sw store.Sweep) {
	if m == nil {
		return
	}
	if sw.Error != "" {
		m.sweeps.WithLabelValues(sw.Dataset, "error").Inc()
		return
	}
	m.sweeps.WithLabelValues(sw.Dataset, "ok").Inc()
	m.deleted.WithLabelValues(sw.Dataset).Add(float64(sw.Deleted))
	m.last.WithLabelValues(sw.Dataset).Set(float64(sw.FinishedAt.Unix()))
}
