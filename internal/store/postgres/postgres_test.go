package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

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
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
