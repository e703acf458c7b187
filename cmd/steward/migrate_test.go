package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
	_ "modernc.org/sqlite"
)

// steward runs one command in-process and returns its exit code and output.
func steward(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

var (
	appliedLine = regexp.MustCompile(`^applied ([0-9]{4}_[a-z0-9_]+) \(sqlite\)$`)
	statusLine  = regexp.MustCompile(`^([0-9]{4}_[a-z0-9_]+) +(applied [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z|pending|applied before versioning \(recorded by the next steward migrate\))$`)
)

// status runs migrate --status and returns "ID state" per migration, the
// timestamp reduced to "applied".
func status(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errOut := steward(t, append([]string{"migrate", "--status"}, args...)...)
	if code != 0 || errOut != "" {
		t.Fatalf("migrate --status: %d %q", code, errOut)
	}
	var got []string
	for _, l := range lines(out) {
		m := statusLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("migrate --status line %q", l)
		}
		state := strings.Fields(m[2])[0]
		if strings.Contains(m[2], "before versioning") {
			state = "baseline"
		}
		got = append(got, m[1]+" "+state)
	}
	return got
}

func TestMigrateCLI(t *testing.T) {
	dir := t.TempDir()
	// --status reports and never creates: a missing database is named.
	if code, _, errOut := steward(t, "migrate", "--status", "--data", dir); code != 1 || !strings.Contains(errOut, "no steward database at") {
		t.Fatalf("status of a missing database: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "steward.db")); !os.IsNotExist(err) {
		t.Fatal("migrate --status created the database")
	}
	// An empty SQLite file is a database with nothing applied.
	if err := os.WriteFile(filepath.Join(dir, "steward.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := status(t, "--data", dir)
	if len(before) == 0 || before[0] != "0001_initial pending" {
		t.Fatalf("status of a new database: %q", before)
	}
	for _, l := range before {
		if !strings.HasSuffix(l, " pending") {
			t.Fatalf("status of a new database: %q", before)
		}
	}
	if again := status(t, "--data", dir); strings.Join(again, "|") != strings.Join(before, "|") {
		t.Fatalf("--status applied something: %q", again)
	}

	code, out, errOut := steward(t, "migrate", "--data", dir)
	if code != 0 || errOut != "" || len(lines(out)) != len(before) {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	for i, l := range lines(out) {
		if m := appliedLine.FindStringSubmatch(l); m == nil || m[1]+" pending" != before[i] {
			t.Fatalf("migrate line %q, want %s applied", l, before[i])
		}
	}
	for i, l := range status(t, "--data", dir) {
		if l != strings.Replace(before[i], "pending", "applied", 1) {
			t.Fatalf("status after migrate: %q", l)
		}
	}
	code, out, _ = steward(t, "migrate", "--data", dir)
	if want := fmt.Sprintf("schema is up to date at version %d (sqlite)\n", len(before)); code != 0 || out != want {
		t.Fatalf("second migrate: %d %q, want %q", code, out, want)
	}

	// A newer steward has migrated the database: refused in one line, by
	// every command that opens the store.
	db, err := sql.Open("sqlite", filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO schema_migrations VALUES (99, 'from_the_future', 1)"); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("steward: database schema is at version 99 but this steward knows only up to %d; upgrade steward (or point it at the right database)\n", len(before))
	for _, args := range [][]string{{"migrate"}, {"migrate", "--status"}, {"token", "list"}, {"serve", "--addr", "127.0.0.1:0"}} {
		if code, out, errOut := steward(t, append(args, "--data", dir)...); code != 1 || out != "" || errOut != want {
			t.Errorf("%v on a newer database: %d %q %q, want %q", args, code, out, errOut, want)
		}
	}
}

func TestMigrateCLIUnversioned(t *testing.T) {
	dir := t.TempDir()
	unversionedSQLite(t, dir)
	before := status(t, "--data", dir)
	if len(before) == 0 || before[0] != "0001_initial baseline" {
		t.Fatalf("status of an unversioned database: %q", before)
	}
	code, out, errOut := steward(t, "migrate", "--data", dir)
	got := lines(out)
	if code != 0 || errOut != "" || len(got) != len(before) || got[0] != "recorded 0001_initial as applied: the database predates versioned migrations (sqlite)" {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	for i, l := range status(t, "--data", dir) {
		if want := strings.Fields(before[i])[0] + " applied"; l != want {
			t.Fatalf("status after migrate: %q, want %q", l, want)
		}
	}
}

func TestMigrateCLIUsage(t *testing.T) {
	for _, args := range [][]string{{"migrate", "--bogus"}, {"migrate", "--status=maybe"}, {"migrate", "now"}} {
		code, out, errOut := steward(t, append(args, "--data", t.TempDir())...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "steward: ") {
			t.Errorf("%v: %d %q %q", args, code, out, errOut)
		}
	}
}

func TestMigrateCLIPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)

	n := len(status(t, "--db", dsn))
	code, out, errOut := steward(t, "migrate", "--db", dsn)
	if got := lines(out); code != 0 || errOut != "" || len(got) != n || got[0] != "applied 0001_initial (postgres)" {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	if code, out, _ := steward(t, "migrate", "--db", dsn); code != 0 || out != fmt.Sprintf("schema is up to date at version %d (postgres)\n", n) {
		t.Fatalf("second migrate: %d %q", code, out)
	}
}

// unversionedSQLite makes dir's database one that a steward from before
// versioned migrations created.
func unversionedSQLite(t *testing.T, dir string) *sql.DB {
	t.Helper()
	schema, err := os.ReadFile("../../internal/store/sqlite/testdata/schema-unversioned.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatal(err)
	}
	return db
}
