package volume

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func lines(rs []store.CollectionDay) map[string]int64 {
	out := map[string]int64{}
	for _, r := range rs {
		out[fmt.Sprintf("%s %s %s %s", r.Day.Format(time.DateOnly), r.Dataset, r.Outcome, r.Reason)] += r.Count
	}
	return out
}

func TestCountsReachTheStoreAndSurviveAFailedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "steward.db")
	st := open(t, path)
	c := clock.NewFake(time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC))
	tl := &Tally{Store: st, Log: slog.New(slog.DiscardHandler)}
	from, to := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

	tl.Add(c.Now(), "interaction_data", Accepted, "", 3)
	tl.Add(c.Now(), "interaction_data", Dropped, "opt_out", 1)
	tl.Add(c.Now(), "interaction_data", Dropped, "opt_out", 0) // nothing
	// Before any flush the page sees this node's counts.
	if got, _ := tl.Days(ctx, from, to); fmt.Sprint(lines(got)) != "map[2026-11-22 interaction_data accepted :3 2026-11-22 interaction_data dropped opt_out:1]" {
		t.Fatalf("pending: %v", lines(got))
	}
	if err := tl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute) // the next day
	tl.Add(c.Now(), "interaction_data", Accepted, "", 2)
	tl.Add(c.Now(), "request_log", Rejected, "invalid", 1)
	// The store is gone: the counts stay in memory.
	st.Close()
	if err := tl.Flush(ctx); err == nil {
		t.Fatal("a flush to a closed store succeeded")
	}
	tl.Add(c.Now(), "interaction_data", Accepted, "", 1)
	st = open(t, path)
	defer st.Close()
	tl.Store = st
	if err := tl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stored, err := st.CollectionDays(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := "map[2026-11-22 interaction_data accepted :3 2026-11-22 interaction_data dropped opt_out:1 2026-11-23 interaction_data accepted :3 2026-11-23 request_log rejected invalid:1]"
	if fmt.Sprint(lines(stored)) != want {
		t.Fatalf("stored: %v\nwant %s", lines(stored), want)
	}
	// Counted once, whether flushed or not.
	tl.Add(c.Now(), "interaction_data", Accepted, "", 4)
	if got, _ := tl.Days(ctx, from, to); lines(got)["2026-11-23 interaction_data accepted "] != 7 {
		t.Fatalf("stored and pending: %v", lines(got))
	}
}

// BenchmarkAdd is what counting costs the collection hot path: one map
// update under a mutex, from every core at once.
func BenchmarkAdd(b *testing.B) {
	tl := &Tally{}
	reasons := []string{"", "opt_out", "sampled", "erased"}
	now := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			tl.Add(now, "interaction_data", Accepted, reasons[i%len(reasons)], 1)
		}
	})
}

// BenchmarkAddOneCore is Add without contention.
func BenchmarkAddOneCore(b *testing.B) {
	tl := &Tally{}
	now := time.Now()
	for b.Loop() {
		tl.Add(now, "interaction_data", Accepted, "", 1)
	}
}

// BenchmarkPrometheusCounter is, for comparison, what the collection
// endpoint already pays per outcome for its Prometheus counter.
func BenchmarkPrometheusCounter(b *testing.B) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x"}, []string{"dataset", "outcome", "reason"})
	reasons := []string{"", "opt_out", "sampled", "erased"}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			c.WithLabelValues("interaction_data", Accepted, reasons[i%len(reasons)]).Add(1)
		}
	})
}
