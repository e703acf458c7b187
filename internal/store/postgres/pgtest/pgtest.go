// Package pgtest gives tests a PostgreSQL of their own: a fresh schema in
// the database STEWARD_TEST_POSTGRES names, dropped when the test ends.
// Without the variable the test is skipped, so `go test ./...` passes on
// a machine without PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env names the variable that points tests at a PostgreSQL.
const Env = "STEWARD_TEST_POSTGRES"

// Schema creates a schema and returns a DSN whose search_path is it.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip("set " + Env + " to a PostgreSQL DSN to run this test")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "steward_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", Env, err)
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
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
