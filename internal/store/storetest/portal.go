package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// requestSummaries: the portal's filters by deadline, its counts, and the
// numbers its charts draw.
func requestSummaries(t *testing.T, s store.Store) {
	ctx := context.Background()
	day := 24 * time.Hour
	week := 7 * day
	origin := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	mk := func(id, channel, status string, created time.Time, due, closedAfter time.Duration) {
		t.Helper()
		r := request(id, "s-"+id, "erasure", status, created)
		r.Channel, r.DueAt, r.Receipt = channel, created.Add(due), `{"receipt":"kept"}`
		if closedAfter > 0 {
			r.StatusAt = created.Add(closedAfter)
		}
		if err := createRequest(ctx, s, r, store.RequestEvent{RequestID: id, At: created, Actor: "user", To: status}); err != nil {
			t.Fatal(err)
		}
	}
	now := origin.Add(3 * week)
	mk("a1", "web", "received", origin.Add(time.Hour), 10*day, 0)                   // overdue at now
	mk("a2", "web", "in_progress", origin.Add(2*week), 10*day, 0)                   // due in 3 days
	mk("a3", "app", "waiting_for_user_response", origin.Add(2*week+day), 30*day, 0) // due later
	mk("a4", "facebook", "done", origin.Add(week), 30*day, 5*day+time.Hour)         // done in 5 days, on time
	mk("a5", "web", "done", origin.Add(time.Hour), 10*day, 12*day)                  // done in 12 days, late
	mk("a6", "app", "rejected", origin.Add(week+day), 30*day, 7*day)                // closed in week 3
	mk("a7", "web", "done", origin.Add(-week), 30*day, time.Hour)                   // before the charts' range
	open := []string{"waiting_for_email_confirmation", "received", "in_progress", "waiting_for_user_response"}

	c, err := s.CountRequests(ctx, open, now, now.Add(7*day))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.ByStatus) != "map[done:3 in_progress:1 received:1 rejected:1 waiting_for_user_response:1]" || c.Overdue != 1 || c.DueSoon != 1 {
		t.Fatalf("counts: %+v", c)
	}
	for _, tc := range []struct {
		f    store.RequestFilter
		want string
	}{
		{store.RequestFilter{AnyStatus: open, DueBefore: now}, "a1"},
		{store.RequestFilter{AnyStatus: open, DueFrom: now, DueBefore: now.Add(7 * day)}, "a2"},
		{store.RequestFilter{AnyStatus: []string{"done", "rejected"}, Channel: "web"}, "a5 a7"},
		{store.RequestFilter{AnyStatus: []string{"done"}, Offset: 1, Limit: 1}, "a5"},
	} {
		if tc.f.Limit == 0 {
			tc.f.Limit = 10
		}
		list, total, err := s.ListRequests(ctx, tc.f)
		if err != nil || ids(list) != tc.want {
			t.Errorf("filter %+v: %q %v, want %q", tc.f, ids(list), err, tc.want)
		}
		if tc.f.Offset == 0 && total != len(list) {
			t.Errorf("filter %+v: total %d for %d rows", tc.f, total, len(list))
		}
		for _, r := range list {
			if r.Receipt != "" {
				t.Errorf("a list carries the receipt of %s", r.ID)
			}
		}
	}
	if r, _ := s.GetRequest(ctx, "a4"); r.Receipt == "" {
		t.Error("the request's own read lost its receipt")
	}

	flows, err := s.RequestFlows(ctx, []string{"done", "rejected"}, origin, week)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range flows {
		got = append(got, fmt.Sprintf("%s %s +%d -%d", f.Start.Format("01-02"), f.Channel, f.Opened, f.Closed))
	}
	// Week 1: a1 and a5 opened. Week 2: a4 and a6 opened, a4 closed, and
	// a5 (day 12). Week 3: a2 and a3 opened, a6 closed (day 15).
	want := "[11-02 web +2 -0 11-09 app +1 -0 11-09 facebook +1 -1 11-09 web +0 -1 11-16 app +1 -1 11-16 web +1 -0]"
	if fmt.Sprint(got) != want {
		t.Errorf("flows: %v\nwant %s", got, want)
	}

	comps, err := s.RequestCompletions(ctx, "done", origin)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(comps) != "[{5 false 1} {12 true 1}]" {
		t.Errorf("completions: %v", comps)
	}
}

// collectionVolume: daily counts add up, also from nodes adding at once.
func collectionVolume(t *testing.T, s store.Store) {
	ctx := context.Background()
	d1 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	rows := []store.CollectionDay{
		{Day: d1, Dataset: "interaction_data", Outcome: "accepted", Count: 10},
		{Day: d1, Dataset: "interaction_data", Outcome: "dropped", Reason: "opt_out", Count: 2},
		{Day: d2, Dataset: "interaction_data", Outcome: "accepted", Count: 5},
		{Day: d2, Dataset: "request_log", Outcome: "rejected", Reason: "invalid", Count: 1},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- s.AddCollectionDays(ctx, rows) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddCollectionDays(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.CollectionDays(ctx, d1, d2.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %d", r.Day.Format(time.DateOnly), r.Dataset, r.Outcome, r.Reason, r.Count))
	}
	want := "[2026-11-21 interaction_data accepted  40 2026-11-21 interaction_data dropped opt_out 8 2026-11-22 interaction_data accepted  20 2026-11-22 request_log rejected invalid 4]"
	if fmt.Sprint(lines) != want {
		t.Fatalf("days:\n%v\nwant %s", lines, want)
	}
	if got, _ := s.CollectionDays(ctx, d2, d2.Add(24*time.Hour)); len(got) != 2 || !got[0].Day.Equal(d2) {
		t.Fatalf("one day: %+v", got)
	}
}
