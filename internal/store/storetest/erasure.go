package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// erasedSubjects: a deactivated key's events leave every read at once and
// come back only once purged; rows are numbered in commit order and their
// numbers never reused.
func erasedSubjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	keysIn := func(ds, subject string) []string {
		t.Helper()
		evs, err := s.ListEvents(ctx, store.EventQuery{Dataset: ds, SubjectKey: subject, To: t0.Add(time.Hour), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.SubjectKey)
		}
		return out
	}
	if _, err := s.InsertEvents(ctx, []store.Event{ev("a", "", t0, "k1"), ev("a", "", t0, "k2"), ev("a", "", t0, ""), ev("b", "", t0, "k1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddErasedSubjects(ctx, "r1", []string{"k1", "", "k1-as-given"}, t0); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keysIn("a", ""), keysIn("b", ""), keysIn("a", "k1")); got != "[k2 ] [] []" {
		t.Fatalf("reads after deactivation: %s", got)
	}
	// Again for the same request: the first time stands.
	if err := s.AddErasedSubjects(ctx, "r1", []string{"k1"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ErasedSubjectsAfter(ctx, 0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows: %+v %v", rows, err)
	}
	for _, r := range rows {
		if r.RequestID != "r1" || !r.DeactivatedAt.Equal(t0) || !r.PurgedAt.IsZero() || r.Seq != rows[0].Seq || r.Seq <= 0 {
			t.Fatalf("row: %+v", r)
		}
	}
	first := rows[0].Seq
	// A second request reaching the same key keeps it hidden after the
	// first one's purge.
	if err := s.AddErasedSubjects(ctx, "r2", []string{"k1"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSubjectEvents(ctx, "k1"); err != nil || n["a"] != 1 || n["b"] != 1 {
		t.Fatalf("purge: %v %v", n, err)
	}
	if err := s.MarkErasedPurged(ctx, "r1", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	changed, err := s.ErasedSubjectsAfter(ctx, first)
	if err != nil || len(changed) != 3 || changed[0].RequestID != "r2" || changed[1].RequestID != "r1" || changed[1].Seq <= changed[0].Seq ||
		!changed[1].PurgedAt.Equal(t0.Add(2*time.Hour)) || !changed[1].DeactivatedAt.Equal(t0) {
		t.Fatalf("changes after %d: %+v %v", first, changed, err)
	}
	s.InsertEvents(ctx, []store.Event{ev("a", "", t0, "k1")})
	if got := keysIn("a", "k1"); len(got) != 0 {
		t.Fatalf("still pending for r2, yet read: %v", got)
	}
	if err := s.MarkErasedPurged(ctx, "r2", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := keysIn("a", "k1"); len(got) != 1 {
		t.Fatalf("purged by every request, an event stored afterwards is not read: %v", got)
	}

	// Pages stay full around hidden events, however many: paging a range
	// where a hidden subject's events come first and between the others
	// returns every other event once, in order.
	var batch []store.Event
	for i := range 600 {
		subject := "hidden"
		if i%100 == 99 {
			subject = fmt.Sprint("v", i)
		}
		batch = append(batch, ev("p", "", t0, subject))
	}
	if _, err := s.InsertEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.AddErasedSubjects(ctx, "rp", []string{"hidden"}, t0); err != nil {
		t.Fatal(err)
	}
	var paged []string
	var after int64
	for range 10 {
		evs, err := s.ListEvents(ctx, store.EventQuery{Dataset: "p", AfterSeq: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			paged = append(paged, e.SubjectKey)
			after = e.Seq
		}
		if len(evs) < 2 {
			break
		}
	}
	if fmt.Sprint(paged) != "[v99 v199 v299 v399 v499 v599]" {
		t.Fatalf("paged around hidden events: %v", paged)
	}

	// Forgetting: only purged rows before the cutoff; numbers go on.
	if err := s.AddErasedSubjects(ctx, "r3", []string{"k3"}, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteErasedPurgedBefore(ctx, t0.Add(150*time.Minute)); err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	all, _ := s.ErasedSubjectsAfter(ctx, 0)
	var left []string
	for _, r := range all {
		left = append(left, r.SubjectKey+"/"+r.RequestID)
	}
	slices.Sort(left)
	if fmt.Sprint(left) != "[hidden/rp k1/r2 k3/r3]" {
		t.Fatalf("left after forgetting: %v", left)
	}
	top := all[len(all)-1].Seq
	if err := s.AddErasedSubjects(ctx, "r4", []string{"k4"}, t0); err != nil {
		t.Fatal(err)
	}
	if next, _ := s.ErasedSubjectsAfter(ctx, top); len(next) != 1 || next[0].Seq <= top {
		t.Fatalf("after forgetting, the next change: %+v", next)
	}

	// Concurrent writers while a node polls: the poller sees every row.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	seen := map[string]bool{}
	pollErr := make(chan error, 1)
	go func() {
		var after int64
		for {
			finished := false
			select {
			case <-stop:
				finished = true
			default:
			}
			rows, err := s.ErasedSubjectsAfter(ctx, after)
			if err != nil {
				pollErr <- err
				return
			}
			for _, r := range rows {
				if r.Seq < after {
					pollErr <- fmt.Errorf("seq %d after %d", r.Seq, after)
					return
				}
				seen[r.SubjectKey] = true
				after = r.Seq
			}
			if finished && len(rows) == 0 {
				pollErr <- nil
				return
			}
		}
	}()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if err := s.AddErasedSubjects(ctx, fmt.Sprintf("c%d-%d", w, i), []string{fmt.Sprintf("c%d-%d", w, i)}, t0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-pollErr; err != nil {
		t.Fatal(err)
	}
	n := 0
	for k := range seen {
		if k[0] == 'c' {
			n++
		}
	}
	if n != 80 {
		t.Fatalf("the poller saw %d of 80 keys", n)
	}
}
