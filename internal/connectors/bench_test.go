package connectors

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// BenchmarkEraseOneSubject measures the event-store step of an erasure:
// one subject's events deleted from a store holding STEWARD_BENCH_EVENTS
// events (default 10M; ~10 per subject, spread over 30 days). SQLite
// always; PostgreSQL when STEWARD_BENCH_POSTGRES names a scratch database.
func BenchmarkEraseOneSubject(b *testing.B) {
	n := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	dsns := map[string]string{"sqlite": ""}
	if pg := os.Getenv("STEWARD_BENCH_POSTGRES"); pg != "" {
		dsns["postgres"] = pg
	}
	keyer, _ := minimise.NewKeyer(make([]byte, 32))
	reg, _ := registry.Default()
	subjects := n / 10
	filled := map[string]store.Store{}
	// Subjects erased by an earlier run over a reused database have
	// nothing left; start somewhere else each run.
	next := int(time.Now().UnixNano() % int64(subjects))
	parent := b
	for name, dsn := range dsns {
		b.Run(name, func(b *testing.B) {
			// The framework runs this more than once; fill each store once.
			st := filled[name]
			if st == nil {
				b.StopTimer()
				st = fillErase(b, parent, dsn, n, keyer)
				filled[name] = st
				b.StartTimer()
			}
			ctx := context.Background()
			ev := &Events{Store: st, Keyer: keyer, Registry: registry.Static(reg)}
			var worst time.Duration
			for range b.N {
				next++
				t0 := time.Now()
				res, err := ev.Purge(ctx, rights.Subject{AccountID: fmt.Sprintf("account-%d", (next*7919)%subjects)})
				if err != nil || res.Count == 0 {
					b.Fatalf("%+v %v", res, err)
				}
				worst = max(worst, time.Since(t0))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}

// fillErase opens a store holding n events of n/10 subjects; a scratch
// PostgreSQL database filled by an earlier run is reused as it is. The
// store lives as long as parent, across the sub-benchmark's runs.
func fillErase(b, parent *testing.B, dsn string, n int, keyer *minimise.Keyer) store.Store {
	ctx := context.Background()
	dir := parent.TempDir()
	st, err := backends.Open(ctx, dsn, dir, true)
	if err != nil {
		b.Fatal(err)
	}
	parent.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	subjects := n / 10
	start := time.Now()
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]store.Event, 0, 20_000)
	have, err := st.ListEvents(ctx, store.EventQuery{Dataset: "interaction_data", From: day, To: day.AddDate(0, 2, 0), AfterSeq: int64(n) - 1, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	fill := n
	if len(have) > 0 {
		fill = 0
	}
	for i := range fill {
		subj := i % subjects
		batch = append(batch, store.Event{Dataset: "interaction_data", ReceivedAt: day.Add(time.Duration(i%(30*144)) * 10 * time.Minute),
			SubjectKey: keyer.Hash("subject", fmt.Sprintf("account-%d", subj)), Data: []byte(`{"language":"en_US","number_emails":3}`)})
		if len(batch) == cap(batch) || i == fill-1 {
			if _, err := st.InsertEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Logf("%d events for %d subjects (%d stored now, in %s)", n, subjects, fill, time.Since(start).Round(time.Second))
	return st
}
