package accesslog_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// benchStores opens a fresh SQLite store, and a PostgreSQL one when
// STEWARD_BENCH_POSTGRES is set (its access log must be empty: use a
// scratch database).
func benchStores(b *testing.B) map[string]store.Store {
	out := map[string]store.Store{}
	for name, bs := range benchBackends(b) {
		out[name] = bs.st
	}
	return out
}

// benchStore is a store and a way to run SQL on its database directly,
// for measuring queries steward does not make.
type benchStore struct {
	st store.Store
	// count runs a query and returns how many rows it gave.
	count func(ctx context.Context, query string, args ...any) (int, error)
}

func benchBackends(b *testing.B) map[string]benchStore {
	out := map[string]benchStore{}
	open := func(name, dsn string) {
		dir := b.TempDir()
		st, err := backends.Open(context.Background(), dsn, dir, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		bs := benchStore{st: st}
		if dsn == "" {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "steward.db")+"?mode=ro")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			bs.count = func(ctx context.Context, q string, args ...any) (int, error) {
				rows, err := db.QueryContext(ctx, q, args...)
				if err != nil {
					return 0, err
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					n++
				}
				return n, rows.Err()
			}
		} else {
			pool, err := pgxpool.New(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(pool.Close)
			bs.count = func(ctx context.Context, q string, args ...any) (int, error) {
				rows, err := pool.Query(ctx, q, args...)
				if err != nil {
					return 0, err
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					n++
				}
				return n, rows.Err()
			}
		}
		out[name] = bs
	}
	open("sqlite", "")
	if dsn := os.Getenv("STEWARD_BENCH_POSTGRES"); dsn != "" {
		open("postgres", dsn)
	}
	return out
}

// benchEntries is STEWARD_BENCH_ENTRIES, or def.
func benchEntries(def int) int {
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_ENTRIES")); err == nil && v > 0 {
		return v
	}
	return def
}

// fill appends n entries made by entry(0…n-1) unless the log has some.
func fill(b *testing.B, st store.Store, n int) {
	ctx := context.Background()
	if _, err := st.AccessHead(ctx); err == nil {
		return
	}
	start := time.Now()
	for i := 0; i < n; i += 10_000 {
		batch := make([]*store.AccessEntry, min(10_000, n-i))
		for j := range batch {
			batch[j] = entry(i + j)
		}
		if err := st.AppendAccess(ctx, batch, func(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: wrote %d entries in %s", st.Backend(), n, time.Since(start).Round(time.Millisecond))
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
				res, err := accesslog.Verify(ctx, st, accesslog.Options{})
				if err != nil || res.Break != nil || res.Checked != head.Seq {
					b.Fatalf("%+v %v", res, err)
				}
				b.ReportMetric(float64(res.Checked)/time.Since(t0).Seconds(), "entries/s")
			}
		})
	}
}

// BenchmarkAppendConcurrent appends through the group commit from 32
// concurrent readers, each waiting for its entry to be durable, with one
// subject key per entry and with 50 (a page of the read API).
func BenchmarkAppendConcurrent(b *testing.B) {
	for name, st := range benchStores(b) {
		for _, keys := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/keys=%d", name, keys), func(b *testing.B) {
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
							e := entry(w*per + i)
							for k := 1; k < keys; k++ {
								e.SubjectKeys = append(e.SubjectKeys, fmt.Sprintf("%064x", (w*per+i)*keys+k))
							}
							if err := app.Append(context.Background(), e); err != nil {
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
}

// BenchmarkListBySubject is the auditor's "who read this person's data"
// (GET /v1/access-log?subject_key=, a page of 100) over a log of 200 000
// entries (STEWARD_BENCH_ENTRIES), each naming one of 5000 subjects: the
// store's query through the subject index, against the same question
// answered from the entries' own subject_keys column, which the chain
// covers. On PostgreSQL the latter is also measured with a GIN index on
// the column's keys, which the database derives from the entry itself.
//
// 2026-12-02, 2-core VM shared with other work, -benchtime 20x, two runs
// of 1 and 3: SQLite index 0.45–0.64 ms, entries scanned 96–107 ms;
// PostgreSQL index 0.38–0.77 ms, entries scanned 84–103 ms, entries
// through GIN 0.23–0.78 ms. SQLite has no index over the keys inside one
// column, so the separate index stays (on both backends, one design) and
// verify holds it against the entries instead (docs/access-log.md).
func BenchmarkListBySubject(b *testing.B) {
	n := benchEntries(200_000)
	ctx := context.Background()
	for name, bs := range benchBackends(b) {
		fill(b, bs.st, n)
		key := fmt.Sprintf("%064x", 4242)
		want := min(n/5000, 100)
		check := func(b *testing.B, got int, err error) {
			if err != nil || got != want {
				b.Fatalf("%d entries, %v; want %d", got, err, want)
			}
		}
		b.Run(name+"/index", func(b *testing.B) {
			for b.Loop() {
				got, err := bs.st.ListAccess(ctx, store.AccessQuery{SubjectKey: key, Limit: 100})
				check(b, len(got), err)
			}
		})
		scan := "SELECT * FROM access_log WHERE seq > 0 AND instr(' ' || subject_keys || ' ', ' ' || ? || ' ') > 0 ORDER BY seq LIMIT 100"
		if name == "postgres" {
			scan = "SELECT * FROM access_log WHERE seq > 0 AND strpos(' ' || subject_keys || ' ', ' ' || $1 || ' ') > 0 ORDER BY seq LIMIT 100"
		}
		b.Run(name+"/entries-scan", func(b *testing.B) {
			for b.Loop() {
				got, err := bs.count(ctx, scan, key)
				check(b, got, err)
			}
		})
		if name == "postgres" {
			if _, err := bs.count(ctx, "CREATE INDEX IF NOT EXISTS bench_access_log_keys ON access_log USING gin (string_to_array(subject_keys, ' '))"); err != nil {
				b.Fatal(err)
			}
			if _, err := bs.count(ctx, "ANALYZE access_log"); err != nil {
				b.Fatal(err)
			}
			b.Run(name+"/entries-gin", func(b *testing.B) {
				for b.Loop() {
					got, err := bs.count(ctx, "SELECT * FROM access_log WHERE seq > 0 AND string_to_array(subject_keys, ' ') @> ARRAY[$1] ORDER BY seq LIMIT 100", key)
					check(b, got, err)
				}
			})
		}
	}
}
