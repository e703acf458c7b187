package collect

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/volume"
)

// Metrics are the collection pipeline's Prometheus series. Labels are
// bounded: dataset names come from the registry ("unknown" otherwise) and
// reasons from a fixed list.
type Metrics struct {
	events   *prometheus.CounterVec
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	batch    prometheus.Histogram
	// Days, when set, also counts every outcome per dataset and day, for
	// the portal's collection chart (package volume).
	Days Tally
	// gleanDropped counts Glean metrics dropped by name; names come from
	// clients, so only maxMetricLabels distinct ones get a series.
	gleanDropped *prometheus.CounterVec
	mu           sync.Mutex
	metricLabels map[string]bool
}

// Tally counts collection outcomes per day (volume.Tally): in memory, so
// the request pays a map update, not a write.
type Tally interface {
	Add(at time.Time, dataset, outcome, reason string, n int)
}

const maxMetricLabels = 1000

// NewMetrics registers the collection metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_collect_events_total",
			Help: "Events offered to the collection endpoint, by outcome (accepted or dropped) and drop reason.",
		}, []string{"dataset", "outcome", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_collect_rejected_requests_total",
			Help: "Collection requests refused before anything was stored, by reason.",
		}, []string{"dataset", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "steward_collect_request_duration_seconds",
			Help:    "Time to answer a collection request, including the durable write.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}, []string{"dataset"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "steward_collect_batch_events",
			Help:    "Events committed per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		gleanDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_glean_dropped_metrics_total",
			Help: "Metrics of Glean pings not stored (not approved, another type, expired or invalid), by dataset and metric id.",
		}, []string{"dataset", "metric"}),
		metricLabels: map[string]bool{},
	}
	reg.MustRegister(m.events, m.requests, m.latency, m.batch, m.gleanDropped)
	return m
}

// ObserveBatch records the size of one committed batch.
func (m *Metrics) ObserveBatch(n int) { m.batch.Observe(float64(n)) }

func (m *Metrics) observe(dataset string, d time.Duration) {
	m.latency.WithLabelValues(dataset).Observe(d.Seconds())
}

// accepted, dropped and rejected count a request's outcome; at is its
// time on the server's clock, which dates the daily count.
func (m *Metrics) accepted(at time.Time, dataset string, n int) {
	if n > 0 {
		m.events.WithLabelValues(dataset, "accepted", "").Add(float64(n))
		m.day(at, dataset, volume.Accepted, "", n)
	}
}

func (m *Metrics) dropped(at time.Time, dataset, reason string, n int) {
	m.events.WithLabelValues(dataset, "dropped", reason).Add(float64(n))
	m.day(at, dataset, volume.Dropped, reason, n)
}

func (m *Metrics) rejected(at time.Time, dataset, reason string) {
	m.requests.WithLabelValues(dataset, reason).Inc()
	m.day(at, dataset, volume.Rejected, reason, 1)
}

func (m *Metrics) day(at time.Time, dataset, outcome, reason string, n int) {
	if m.Days != nil {
		m.Days.Add(at, dataset, outcome, reason, n)
	}
}

func (m *Metrics) droppedMetric(dataset, metric string, n int) {
	if !registry.GleanMetricRE.MatchString(metric) {
		metric = "invalid_name"
	}
	m.mu.Lock()
	if !m.metricLabels[dataset+"/"+metric] {
		if len(m.metricLabels) >= maxMetricLabels {
			metric = "other"
		} else {
			m.metricLabels[dataset+"/"+metric] = true
		}
	}
	m.mu.Unlock()
	m.gleanDropped.WithLabelValues(dataset, metric).Add(float64(n))
}
