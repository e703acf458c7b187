package pgaudit

import "github.com/prometheus/client_golang/prometheus"

// Metrics shows the tailer's stored counts on /metrics, so a rising
// malformed count (a log steward cannot read is accesses nobody checks)
// can alert. A nil *Metrics records nothing.
type Metrics struct {
	records *prometheus.GaugeVec
}

// NewMetrics registers the pgaudit source's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{records: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "steward_pgaudit_records",
		Help: "pgaudit log records read since the source was set up, by outcome: logged (an access-log entry), unmapped (a table of no dataset), other (no read or write, or a repeat), malformed (skipped).",
	}, []string{"outcome"})}
	reg.MustRegister(m.records)
	return m
}

func (m *Metrics) set(s Stats) {
	if m == nil {
		return
	}
	m.records.WithLabelValues("logged").Set(float64(s.Entries))
	m.records.WithLabelValues("unmapped").Set(float64(s.Unmapped))
	m.records.WithLabelValues("other").Set(float64(s.Other))
	m.records.WithLabelValues("malformed").Set(float64(s.Malformed))
}
