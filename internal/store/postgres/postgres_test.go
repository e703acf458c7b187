package postgres

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/migrate"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
	"github.com/steward-privacy/steward/internal/store/storetest"
)

// TestSchema returns a DSN for a fresh schema that is dropped afterwards,
// or skips when STEWARD_TEST_POSTGRES is unset.
func testSchema(t testing.TB) string { return pgtest.Schema(t) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), testSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestAccessLogTamper(t *testing.T) {
	storetest.Tamper(t, func(t *testing.T) (store.Store, storetest.Raw) {
		dsn := testSchema(t)
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T, bypass bool, stmts ...string) error {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if bypass {
				// The database owner can switch the triggers off; the
				// chain still tells.
				stmts = append([]string{"ALTER TABLE access_log DISABLE TRIGGER access_log_append_only",
					"ALTER TABLE access_log_subjects DISABLE TRIGGER access_log_subjects_append_only",
					"ALTER TABLE access_checkpoints DISABLE TRIGGER access_checkpoints_append_only"}, stmts...)
			}
			for _, q := range stmts {
				if _, err := conn.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		}
	})
}

// TestAccessLogNoForks: two steward processes (two pools) append to one
// PostgreSQL at once; the chain stays one line.
func TestAccessLogNoForks(t *testing.T) {
	dsn := testSchema(t)
	ctx := context.Background()
	var nodes []*Store
	for range 2 {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, s)
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		app := accesslog.NewAppender(n, slog.New(slog.DiscardHandler))
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 25 {
					e := &store.AccessEntry{At: time.Now(), Actor: fmt.Sprintf("node%d-w%d", i, w), AuthMethod: "token", Role: "analyst",
						Purpose: "p", Dataset: "d", Query: fmt.Sprint(j), Decision: accesslog.Allowed}
					if err := app.Append(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		t.Cleanup(app.Close)
	}
	wg.Wait()
	res, err := accesslog.Verify(ctx, nodes[0], accesslog.Options{})
	if err != nil || res.Break != nil || res.Checked != 800 {
		t.Fatalf("verify: %+v %v", res, err)
	}
}

// BenchmarkRegistryHead is what each node's registry poll costs
// PostgreSQL (registry.DefaultPollEvery).
func BenchmarkRegistryHead(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, testSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		v := store.RegistryVersion{YAML: []byte("x"), Digest: fmt.Sprint(i), Fingerprints: map[string]string{}, ApprovedBy: "bench", CreatedAt: time.Now()}
		if _, _, err := s.AddRegistryVersion(ctx, v, true); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.RegistryHead(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkErasedPoll is what each node's suppression-list poll costs
// PostgreSQL when nothing changed (erasure.DefaultPollEvery), with 1000
// keys on the list.
func BenchmarkErasedPoll(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, testSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := s.AddErasedSubjects(ctx, fmt.Sprint("r", i), []string{fmt.Sprintf("%064x", i)}, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	rows, err := s.ErasedSubjectsAfter(ctx, 0)
	if err != nil || len(rows) != 1000 {
		b.Fatal(len(rows), err)
	}
	last := rows[len(rows)-1].Seq
	for b.Loop() {
		if rows, err := s.ErasedSubjectsAfter(ctx, last); err != nil || len(rows) != 0 {
			b.Fatal(len(rows), err)
		}
	}
}

// BenchmarkListEvents: see storetest.ListEvents. The schema is fresh, so
// the planner has no statistics, as for a new day's partition.
func BenchmarkListEvents(b *testing.B) {
	st, err := Open(context.Background(), testSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	storetest.ListEvents(b, st)
}

// BenchmarkRequestList: see storetest.RequestList. Run with
// STEWARD_BENCH_FRESH=1 for the table as just loaded, before autovacuum
// has seen it (no planner statistics, no visibility map).
func BenchmarkRequestList(b *testing.B) {
	st, err := Open(context.Background(), testSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	settle := func() {
		if _, err := st.pool.Exec(context.Background(), "VACUUM ANALYZE requests"); err != nil {
			b.Fatal(err)
		}
	}
	if os.Getenv("STEWARD_BENCH_FRESH") != "" {
		settle = nil
	}
	storetest.RequestList(b, st, settle)
}

func open(t *testing.T, dsn string) *Store {
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrations(t *testing.T) {
	storetest.Migrations(t, func(t *testing.T) store.Store {
		return open(t, testSchema(t))
	}, func(t *testing.T, s store.Store, version int) {
		if _, err := s.(*Store).pool.Exec(context.Background(), "INSERT INTO schema_migrations(version, name, applied_at) VALUES($1, 'from_the_future', now())", version); err != nil {
			t.Fatal(err)
		}
	})
}

//go:embed testdata/schema-unversioned.sql
var unversioned string

// legacy makes the database an unversioned steward made.
func legacy(t *testing.T, s *Store) {
	if _, err := s.pool.Exec(context.Background(), unversioned); err != nil {
		t.Fatal(err)
	}
}

func TestUpgradeUnversioned(t *testing.T) {
	storetest.Upgrade(t, func(t *testing.T) (store.Store, storetest.LegacyOutbox, storetest.LegacyRequest) {
		s := open(t, testSchema(t))
		legacy(t, s)
		return s, func(t *testing.T, msgs ...store.OutboxMessage) {
				for _, m := range msgs {
					if _, err := s.pool.Exec(context.Background(), `INSERT INTO outbox(kind, recipient, subject, body, ref, created_at, next_attempt_at, attempts, last_error, sent_at, failed_at)
					VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, m.Kind, m.To, m.Subject, m.Body, m.Ref, m.CreatedAt, m.NextAttemptAt, m.Attempts, m.LastError,
						nullTime(m.SentAt), nullTime(m.FailedAt)); err != nil {
						t.Fatal(err)
					}
				}
			}, func(t *testing.T, r store.Request) {
				cols := strings.TrimSuffix(requestCols, ", glean_client_id")
				args := requestArgs(&r)
				args = args[:len(args)-1]
				if _, err := s.pool.Exec(context.Background(), "INSERT INTO requests("+cols+") VALUES ("+placeholders(len(args), 1)+")", args...); err != nil {
					t.Fatal(err)
				}
			}
	})
}

// TestConcurrentMigrate: two nodes (two pools) start together on a fresh
// and on an unversioned database; both succeed and each migration is
// applied, or the baseline recorded, once.
func TestConcurrentMigrate(t *testing.T) {
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprint("unversioned=", old), func(t *testing.T) {
			ctx := context.Background()
			dsn := testSchema(t)
			a, b := open(t, dsn), open(t, dsn)
			if old {
				legacy(t, a)
			}
			var da, db []store.Migration
			var ea, eb error
			var wg sync.WaitGroup
			wg.Go(func() { da, ea = a.Migrate(ctx) })
			wg.Go(func() { db, eb = b.Migrate(ctx) })
			wg.Wait()
			if ea != nil || eb != nil {
				t.Fatal(ea, eb)
			}
			ms, err := a.MigrationStatus(ctx)
			if err != nil || len(da)+len(db) != len(ms) {
				t.Fatalf("applied %d + %d of %d: %v", len(da), len(db), len(ms), err)
			}
			var n int
			if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
				t.Fatalf("schema_migrations rows: %d %v", n, err)
			}
			if base := append(da, db...)[0]; base.Baseline != old {
				t.Fatalf("0001: %+v", base)
			}
		})
	}
}

// TestFailedMigrationLeavesNothing: a migration that fails halfway leaves
// neither its first statements nor its schema_migrations row behind.
func TestFailedMigrationLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := open(t, testSchema(t))
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	bad := migrate.File{Version: 99, Name: "bad", SQL: "CREATE TABLE half (a integer);\nINSERT INTO nowhere VALUES (1);"}
	if ok, err := (target{conn}).Apply(ctx, bad, false, time.Now()); ok || err == nil {
		t.Fatalf("apply: %v %v", ok, err)
	}
	var half bool
	var n int
	if err := conn.QueryRow(ctx, "SELECT to_regclass('half') IS NOT NULL, (SELECT count(*) FROM schema_migrations WHERE version = 99)").Scan(&half, &n); err != nil || half || n != 0 {
		t.Fatalf("left behind: table %v, rows %d, %v", half, n, err)
	}
}
