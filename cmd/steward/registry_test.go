package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/registry"
)

// TestRegistryHistoryAndDiff stores two versions as two start-ups with
// different files would, then reads them back as an operator would.
func TestRegistryHistoryAndDiff(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := steward(t, "registry", "history", "--data", dir); code != 1 || !strings.Contains(errOut, "no steward database at") {
		t.Fatalf("history before any migrate: %d %q", code, errOut)
	}
	next := filepath.Join(dir, "next.yaml")
	os.WriteFile(next, bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: 90d"), 1), 0o600)
	for _, file := range []string{"", next} {
		cfg := &config.Config{DataDir: dir, Registry: file, Addr: "127.0.0.1:8080", ApproveRegistry: "the new retention was agreed"}
		a, err := app.New(context.Background(), cfg, app.Options{Serve: true})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	code, out, errOut := steward(t, "registry", "history", "--data", dir)
	if code != 0 || errOut != "" {
		t.Fatalf("history: %d %q", code, errOut)
	}
	l := lines(out)
	if len(l) != 3 || !strings.HasPrefix(l[0], "VERSION") || !strings.Contains(l[1], "built-in example") ||
		!strings.Contains(l[2], "operator (override)") || !strings.Contains(l[2], "the new retention was agreed") {
		t.Fatalf("history:\n%s", out)
	}
	code, out, _ = steward(t, "registry", "diff", "--data", dir, "1", "2")
	if code != 0 || strings.TrimSpace(out) != "~ interaction_data (category 2): retention: 120d → 90d" {
		t.Fatalf("diff: %d %q", code, out)
	}
	if code, out, _ := steward(t, "registry", "diff", "--data", dir, "2", "2"); code != 0 || !strings.Contains(out, "the same datasets and fields") {
		t.Fatalf("diff of a version with itself: %d %q", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"registry", "diff", "--data", dir, "1", "9"}, 1, "no registry version 9 (the newest is 2)"},
		{[]string{"registry", "diff", "--data", dir, "1", "x"}, 2, `"x" is not a registry version number`},
		{[]string{"registry", "diff", "--data", dir, "1"}, 2, "usage: steward registry diff A B"},
		{[]string{"registry", "frob"}, 2, "usage: steward registry lint FILE | history | diff A B"},
	} {
		code, _, errOut := steward(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want exit %d with %q on one line", c.args, code, errOut, c.code, c.want)
		}
	}
}

// TestConnectorsCheckDoesNotMigrate: checking connectors reads the store
// as it is; on a database an older steward made it says what to run and
// leaves the schema alone.
func TestConnectorsCheckDoesNotMigrate(t *testing.T) {
	dir := t.TempDir()
	db := unversionedSQLite(t, dir)
	code, _, errOut := steward(t, "connectors", "check", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "run steward migrate first") {
		t.Fatalf("connectors check on an old database: %d %q", code, errOut)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("connectors check migrated the database: %d %v", n, err)
	}
	steward(t, "migrate", "--data", dir)
	steward(t, "token", "list", "--data", dir) // the database is usable now
	keyFile := filepath.Join(t.TempDir(), "hashing.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)), 0o600)
	if code, out, errOut := steward(t, "connectors", "check", "--data", dir, "--secret-file", keyFile); code != 0 || !strings.Contains(out, "ok   steward-events") {
		t.Fatalf("connectors check on a migrated folder: %d %q %q", code, out, errOut)
	}
}
