package accesslog_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// benchStores opens a fresh SQLite store, and a PostgreSQL one when
// STEWARD_TEST_POSTGRES is set (its access log must be empty: use a
// scratch database).
func benchStores(b *testing.B) map[string]store.Store {
	out := map[string]store.Store{}
	open := func(name, dsn string) {
		st, err := backends.Open(context.Background(), dsn, b.TempDir(), true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		out[name] = st
	}
	open("sqlite", "")
	if dsn := os.Getenv("STEWARD_BENCH_POSTGRES"); dsn != "" {
		open("postgres", dsn)
	}
	return out
}

func entry(i int) *store.AccessEntry {
	return &store.AccessEntry{At: time.Unix(1_800_000_000+int64(i), 0), Actor: "dashboard", AuthMethod: "token", CredentialID: "0123456789abcdef",
		Role: "analyst", Purpose: "product_improvement", Dataset: "interaction_data", Query: "events from=2026-11-22T00:00:00Z&limit=100&to=2026-11-23T00:00:00Z",
		Records: 100, Subjects: 1, SubjectKeys: []string{fmt.Sprintf("%064x", i%5000)}, ClientNet: "192.0.2.0", Decision: accesslog.Allowed, Reason: "within policy"}
}

// BenchmarkVerifyStore verifies a log of 1M entries (STEWARD_BENCH_ENTRIES)
// read back from the store (set STEWARD_BENCH_POSTGRES to a scratch database for PostgreSQL).
func BenchmarkVerifyStore(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	for name, st := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			start := time.Now()
			// The benchmark body runs more than once; fill each log once.
			n := n
			if _, err := st.AccessHead(ctx); err == nil {
				n = 0
			}
			for i := 0; i < n; i += 10_000 {
				batch := make([]*store.AccessEntry, 10_000)
				for j := range batch {
					batch[j] = entry(i + j)
				}
				if err := st.AppendAccess(ctx, batch, func(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) }); err != nil {
					b.Fatal(err)
				}
			}
			if n > 0 {
				b.Logf("%s: wrote %d entries in %s", name, n, time.Since(start).Round(time.Millisecond))
			}
			head, _ := st.AccessHead(ctx)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				res, err := accesslog.Verify(ctx, st)
				if err != nil || res.Break != nil || res.Checked != head.Seq {
					b.Fatalf("%+v %v", res, err)
				}
				b.ReportMetric(float64(res.Checked)/time.Since(t0).Seconds(), "entries/s")
			}
		})
	}
}

// BenchmarkAppendConcurrent appends through the group commit from 32
// concurrent readers, each waiting for its entry to be durable.
func BenchmarkAppendConcurrent(b *testing.B) {
	for name, st := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			app := accesslog.NewAppender(st, slog.New(slog.DiscardHandler))
			defer app.Close()
			var wg sync.WaitGroup
			per := (b.N + 31) / 32
			b.ResetTimer()
			start := time.Now()
			for w := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						if err := app.Append(context.Background(), entry(w*per+i)); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(per*32)/time.Since(start).Seconds(), "entries/s")
		})
	}
}
