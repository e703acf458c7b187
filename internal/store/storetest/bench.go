package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// ListEvents benchmarks reading pages of 100 events of a day (1000 events of 50
// subjects), the store's part of a read API page: with no erasure waiting,
// then with 1000 subjects waiting for their purge, one of them in the
// range (its 20 events left out).
// st must be fresh and migrated; each backend's BenchmarkListEvents
// calls this.
func ListEvents(b *testing.B, st store.Store) {
	ctx := context.Background()
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	evs := make([]store.Event, 1000)
	for i := range evs {
		evs[i] = store.Event{Dataset: "interaction_data", ReceivedAt: day.Add(time.Duration(i) * time.Second),
			SubjectKey: fmt.Sprintf("%064x", i%50), Data: []byte(`{"language":"en_US","number_emails":3,"new_account":false}`)}
	}
	if _, err := st.InsertEvents(ctx, evs); err != nil {
		b.Fatal(err)
	}
	q := store.EventQuery{Dataset: "interaction_data", From: day, To: day.Add(24 * time.Hour), Limit: 100}
	for _, erased := range []int{0, 1000} {
		if erased > 0 {
			keys := []string{fmt.Sprintf("%064x", 7)}
			for i := range erased - 1 {
				keys = append(keys, fmt.Sprintf("%064x", 1000+i))
			}
			if err := st.AddErasedSubjects(ctx, "bench", keys, day); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("erased=%d", erased), func(b *testing.B) {
			for b.Loop() {
				if got, err := st.ListEvents(ctx, q); err != nil || len(got) != 100 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// RequestList benchmarks what one page of the portal's request list asks
// of the store at 100 000 requests: the summary counts, and a page of 25
// with its total, first, deep and last, filtered by status, by deadline
// and by a search. st must be fresh and migrated; each backend's
// BenchmarkRequestList calls this. settle, when not nil, runs after the
// fill (PostgreSQL's benchmark vacuums there, as autovacuum does within a
// minute of such a load). The target is well under 200 ms a page.
func RequestList(b *testing.B, st store.Store, settle func()) {
	const n, page = 100_000, 25
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	FillRequests(b, st, n, now)
	statuses := benchStatuses
	open := statuses[8:]
	if settle != nil {
		settle()
	}
	b.Run("counts", func(b *testing.B) {
		for b.Loop() {
			c, err := st.CountRequests(ctx, open, now, now.Add(7*24*time.Hour))
			if err != nil || c.ByStatus["done"] == 0 || c.Overdue == 0 {
				b.Fatal(c, err)
			}
		}
	})
	for _, c := range []struct {
		name string
		f    store.RequestFilter
	}{
		{"first", store.RequestFilter{}},
		{"page=2000", store.RequestFilter{Offset: 1999 * page}},
		{"last", store.RequestFilter{Offset: n - page}},
		{"status/first", store.RequestFilter{Status: "in_progress"}},
		{"status/last", store.RequestFilter{Status: "in_progress", Offset: n/len(statuses) - page}},
		{"channel/page=100", store.RequestFilter{Channel: "facebook", Offset: 99 * page}},
		{"overdue/first", store.RequestFilter{AnyStatus: open, DueBefore: now}},
		{"search", store.RequestFilter{Search: "person4242"}},
	} {
		c.f.Limit = page
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rows, total, err := st.ListRequests(ctx, c.f)
				if err != nil || len(rows) == 0 || total == 0 {
					b.Fatal(len(rows), total, err)
				}
			}
		})
	}
}

// benchStatuses is the spread of statuses FillRequests gives: two in three
// done or rejected, a third open (a backlog far beyond a healthy team's,
// so the open filters have work to do).
var benchStatuses = []string{"done", "done", "done", "done", "done", "done", "done", "rejected",
	"waiting_for_email_confirmation", "received", "in_progress", "waiting_for_user_response"}

// FillRequests stores n requests made over the time before now, one every
// ten minutes (100 000 are two years), in transactions of 5000.
func FillRequests(b testing.TB, st store.Store, n int, now time.Time) {
	ctx := context.Background()
	channels := []string{"web", "web", "app", "web", "app", "facebook", "web", "app", "web", "web"}
	for from := 0; from < n; from += 5000 {
		err := st.InTx(ctx, func(tx store.Tx) error {
			for i := from; i < min(from+5000, n); i++ {
				created := now.Add(-time.Duration(n-i) * 10 * time.Minute)
				r := request(fmt.Sprintf("r-%016d", i), fmt.Sprintf("%064x", i), "erasure", benchStatuses[i%len(benchStatuses)], created)
				r.Channel, r.Email = channels[i%len(channels)], fmt.Sprintf("person%d@example.org", i)
				r.StatusAt = created.Add(time.Duration(i%30) * 24 * time.Hour)
				if err := tx.CreateRequest(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
