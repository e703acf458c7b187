package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/migrate"
	"github.com/steward-privacy/steward/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
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
		path := filepath.Join(t.TempDir(), "steward.db")
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T, bypass bool, stmts ...string) error {
			// Whoever holds the file can drop the triggers; steward's own
			// connection never does.
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if bypass {
				stmts = append([]string{"DROP TRIGGER IF EXISTS access_log_no_update", "DROP TRIGGER IF EXISTS access_log_no_delete",
					"DROP TRIGGER IF EXISTS access_log_subjects_no_update", "DROP TRIGGER IF EXISTS access_log_subjects_no_delete",
					"DROP TRIGGER IF EXISTS access_checkpoints_no_update", "DROP TRIGGER IF EXISTS access_checkpoints_no_delete"}, stmts...)
			}
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					return err
				}
			}
			return nil
		}
	})
}

func open(t *testing.T, path string) *Store {
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrations(t *testing.T) {
	storetest.Migrations(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "steward.db"))
	}, func(t *testing.T, s store.Store, version int) {
		if _, err := s.(*Store).w.Exec("INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, 'from_the_future', 1)", version); err != nil {
			t.Fatal(err)
		}
	})
}

//go:embed testdata/schema-unversioned.sql
var unversioned string

func TestUpgradeUnversioned(t *testing.T) {
	storetest.Upgrade(t, func(t *testing.T) (store.Store, storetest.LegacyOutbox, storetest.LegacyRequest) {
		s := open(t, filepath.Join(t.TempDir(), "steward.db"))
		if _, err := s.w.Exec(unversioned); err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T, msgs ...store.OutboxMessage) {
				for _, m := range msgs {
					if _, err := s.w.Exec(`INSERT INTO outbox(kind, recipient, subject, body, ref, created_at, next_attempt_at, attempts, last_error, sent_at, failed_at)
					VALUES (?,?,?,?,?,?,?,?,?,?,?)`, m.Kind, m.To, m.Subject, m.Body, m.Ref, us(m.CreatedAt), us(m.NextAttemptAt), m.Attempts, m.LastError,
						us(m.SentAt), us(m.FailedAt)); err != nil {
						t.Fatal(err)
					}
				}
			}, func(t *testing.T, r store.Request) {
				cols := strings.TrimSuffix(requestCols, ", glean_client_id")
				args := requestArgs(&r)
				args = args[:len(args)-1]
				if _, err := s.w.Exec("INSERT INTO requests("+cols+") VALUES ("+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+")", args...); err != nil {
					t.Fatal(err)
				}
			}
	})
}

// TestConcurrentMigrate: two processes' stores migrate one file at once;
// both succeed and each migration is applied once.
func TestConcurrentMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.db")
	a, b := open(t, path), open(t, path)
	var da, db []store.Migration
	var ea, eb error
	var wg sync.WaitGroup
	wg.Go(func() { da, ea = a.Migrate(context.Background()) })
	wg.Go(func() { db, eb = b.Migrate(context.Background()) })
	wg.Wait()
	if ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	ms, err := a.MigrationStatus(context.Background())
	if err != nil || len(da)+len(db) != len(ms) {
		t.Fatalf("applied %d + %d of %d: %v", len(da), len(db), len(ms), err)
	}
	var n int
	if err := a.r.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations rows: %d %v", n, err)
	}
}

// TestFailedMigrationLeavesNothing: a migration that fails halfway leaves
// neither its first statements nor its schema_migrations row behind.
func TestFailedMigrationLeavesNothing(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "steward.db"))
	ctx := context.Background()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bad := migrate.File{Version: 99, Name: "bad", SQL: "CREATE TABLE half (a INTEGER);\nINSERT INTO nowhere VALUES (1);"}
	if ok, err := (target{s}).Apply(ctx, bad, false, time.Now()); ok || err == nil {
		t.Fatalf("apply: %v %v", ok, err)
	}
	var n int
	if err := s.r.QueryRow("SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'half') + (SELECT count(*) FROM schema_migrations WHERE version = 99)").Scan(&n); err != nil || n != 0 {
		t.Fatalf("left behind: %d %v", n, err)
	}
}
