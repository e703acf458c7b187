package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/steward-privacy/steward/internal/store"
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
				stmts = append([]string{"DROP TRIGGER access_log_no_update", "DROP TRIGGER access_log_no_delete"}, stmts...)
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
