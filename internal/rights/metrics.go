package rights

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-privacy/steward/internal/store"
)

// states are every status a request can be in, for /metrics.
var states = []Status{WaitingForEmail, Received, InProgress, WaitingForUser, Done, Rejected}

// RegisterMetrics adds the number of data subject requests in each state,
// counted in the store at each scrape (so every node reports the shared
// requests), and how many open ones are past their deadline.
func RegisterMetrics(reg prometheus.Registerer, s *Service) {
	reg.MustRegister(requestsCollector{s: s,
		byState: prometheus.NewDesc("steward_requests", "Data subject requests by state (waiting_for_email_confirmation, received, in_progress, waiting_for_user_response, done, rejected).", []string{"state"}, nil),
		overdue: prometheus.NewDesc("steward_requests_overdue", "Open data subject requests past their statutory deadline.", nil, nil),
	})
}

type requestsCollector struct {
	s                *Service
	byState, overdue *prometheus.Desc
}

func (c requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.byState; ch <- c.overdue }

// Collect counts with the list's own query (its total), one state at a
// time; a store that does not answer leaves the series out of the scrape.
func (c requestsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	now := c.s.Clock.Now()
	var overdue int
	for _, st := range states {
		_, n, err := c.s.Store.ListRequests(ctx, store.RequestFilter{Status: string(st), Limit: 1})
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.byState, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.byState, prometheus.GaugeValue, float64(n), string(st))
		if st.Open() && n > 0 {
			late, err := c.countOverdue(ctx, st, now)
			if err != nil {
				ch <- prometheus.NewInvalidMetric(c.overdue, err)
				return
			}
			overdue += late
		}
	}
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(overdue))
}

// countOverdue pages through the open requests of one state; open
// requests are the few, closed ones the many.
func (c requestsCollector) countOverdue(ctx context.Context, st Status, now time.Time) (int, error) {
	n := 0
	for offset := 0; ; offset += 500 {
		reqs, _, err := c.s.Store.ListRequests(ctx, store.RequestFilter{Status: string(st), Limit: 500, Offset: offset})
		if err != nil {
			return 0, err
		}
		for _, r := range reqs {
			if now.After(r.DueAt) {
				n++
			}
		}
		if len(reqs) < 500 {
			return n, nil
		}
	}
}
