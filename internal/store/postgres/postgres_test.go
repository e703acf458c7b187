package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/storetest"
)

// TestSchema returns a DSN for a fresh schema that is dropped afterwards,
// or skips when STEWARD_TEST_POSTGRES is unset.
func testSchema(t *testing.T) string {
	base := os.Getenv("STEWARD_TEST_POSTGRES")
	if base == "" {
		t.Skip("set STEWARD_TEST_POSTGRES to a PostgreSQL DSN to run this test")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "steward_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
				stmts = append([]string{"ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"}, stmts...)
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
	res, err := accesslog.Verify(ctx, nodes[0])
	if err != nil || res.Break != nil || res.Checked != 800 {
		t.Fatalf("verify: %+v %v", res, err)
	}
}
