package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsDoNotInventASteward: run from a folder with no steward data,
// the commands that only use steward's data say where they looked and how
// to point them elsewhere, and create nothing.
func TestCommandsDoNotInventASteward(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "steward-data")
	for _, args := range [][]string{
		{"token", "create", "--data", dir, "--role", "analyst", "--name", "x"},
		{"token", "list", "--data", dir},
		{"user", "list", "--data", dir},
		{"log", "verify", "--data", dir},
		{"log", "head", "--data", dir},
		{"log", "checkpoints", "--data", dir},
		{"registry", "history", "--data", dir},
		{"requests", "receipt", "--data", dir, "r-x"},
		{"connectors", "check", "--data", dir},
		{"migrate", "--status", "--data", dir},
	} {
		code, out, errOut := steward(t, args...)
		want := "no steward database at " + filepath.Join(dir, "steward.db")
		if code != 1 || out != "" || !strings.Contains(errOut, want) || !strings.Contains(errOut, "--data, STEWARD_DATA or --config") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", args, code, out, errOut, want)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, dir)
		}
	}
	// Only migrate (and serve) create the folder, the database and the key.
	if code, _, errOut := steward(t, "migrate", "--data", dir); code != 0 {
		t.Fatalf("migrate: %d %q", code, errOut)
	}
	// A database without its key file is refused the same way by what needs
	// the key, instead of hashing under a new one.
	code, _, errOut := steward(t, "connectors", "check", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "no hashing key at "+filepath.Join(dir, "secret.key")) {
		t.Fatalf("connectors check without a key: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
		t.Fatal("connectors check created a key")
	}
}
