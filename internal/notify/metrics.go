package notify

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-privacy/steward/internal/store"
)

// Metrics are the outbox's Prometheus series: each attempt's outcome by
// kind, and the depth (messages neither sent nor given up) read from the
// store at each scrape, so every node reports the shared outbox. A nil
// *Metrics records nothing.
type Metrics struct {
	attempts *prometheus.CounterVec
}

// NewMetrics registers the outbox metrics with reg; st answers the depth.
func NewMetrics(reg prometheus.Registerer, st store.Outbox) *Metrics {
	m := &Metrics{attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "steward_outbox_attempts_total",
		Help: "Outbox delivery attempts on this node, by kind (email, webhook) and outcome (sent; failed: retried later; given_up: no more attempts).",
	}, []string{"kind", "outcome"})}
	for _, k := range []string{store.OutboxEmail, store.OutboxWebhook} {
		for _, o := range []string{"sent", "failed", "given_up"} {
			m.attempts.WithLabelValues(k, o) // present from the start, at 0
		}
	}
	reg.MustRegister(m.attempts, depthCollector{st: st, desc: prometheus.NewDesc("steward_outbox_pending_messages",
		"Outbox messages waiting to be sent (neither sent nor given up), by kind; shared by every node of the database.",
		[]string{"kind"}, nil)})
	return m
}

func (m *Metrics) attempt(kind, outcome string) {
	if m == nil {
		return
	}
	if kind != store.OutboxEmail && kind != store.OutboxWebhook {
		kind = "unknown" // a row's kind is data: keep the labels bounded
	}
	m.attempts.WithLabelValues(kind, outcome).Inc()
}

type depthCollector struct {
	st   store.Outbox
	desc *prometheus.Desc
}

func (c depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect reads the depth; when the store does not answer in time the
// series is missing from that scrape rather than a wrong zero.
func (c depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	n, err := c.st.PendingOutbox(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, k := range []string{store.OutboxEmail, store.OutboxWebhook} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n[k]), k)
	}
}
