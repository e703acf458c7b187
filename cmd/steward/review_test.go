package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// TestReviewCommands proposes a file from the command line and reads the
// proposal back as list, show and its review request document.
func TestReviewCommands(t *testing.T) {
	dir := t.TempDir()
	a, err := app.New(context.Background(), &config.Config{DataDir: dir, Addr: "127.0.0.1:8080"}, app.Options{Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateUser(context.Background(), store.User{ID: "u1", Email: "dev@example.org", Role: "analyst", PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	next := filepath.Join(dir, "next.yaml")
	os.WriteFile(next, append(bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: 90d"), 1),
		[]byte("review:\n  title: Shorter retention\n  answers: {questions: none}\n")...), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: soon"), 1), 0o600)
	same := filepath.Join(dir, "same.yaml")
	os.WriteFile(same, registry.DefaultYAML, 0o600)

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"review", "propose", "--data", dir, next}, 2, "--as EMAIL names the proposer"},
		{[]string{"review", "propose", "--as", "nobody@example.org", "--data", dir, next}, 1, "no such account"},
		{[]string{"review", "propose", "--as", "dev@example.org", "--data", dir, same}, 1, "changes nothing"},
		{[]string{"review", "propose", "--as", "dev@example.org", "--data", dir, "--link", "ftp://x", next}, 1, "not an http(s) address"},
		{[]string{"review", "show", "--data", dir, "9"}, 1, "no proposal 9"},
		{[]string{"review", "show", "--data", dir, "x"}, 2, `"x" is not a proposal number`},
		{[]string{"review", "frob"}, 2, "usage: steward review"},
	} {
		code, _, errOut := steward(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q, want %d and %q on one line", c.args, code, errOut, c.code, c.want)
		}
	}
	if code, out, _ := steward(t, "review", "propose", "--as", "dev@example.org", "--data", dir, bad); code != 1 || !strings.Contains(out, "bad.yaml:") {
		t.Fatalf("lint problems: %d %q", code, out)
	}
	code, out, errOut := steward(t, "review", "propose", "--as", "dev@example.org", "--data", dir, "--link", "https://tracker.example/3", next)
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "proposal 1 (draft): Shorter retention\n  ~ interaction_data (category 2): retention: 120d → 90d\nneeds data steward") ||
		!strings.Contains(out, "needs legal/trust review: it changes the public notice") {
		t.Fatalf("propose: %d %q %q", code, out, errOut)
	}
	if code, out, _ := steward(t, "review", "list", "--data", dir); code != 0 || !strings.Contains(out, "1   draft  2         data_steward,legal_reviewer  dev@example.org") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := steward(t, "review", "show", "--data", dir, "1"); code != 0 || !strings.Contains(out, "data steward (highest category is 2): waiting") {
		t.Fatalf("show: %d %q", code, out)
	}
	code, out, _ = steward(t, "review", "doc", "--data", dir, "1")
	if code != 0 || !strings.HasPrefix(out, "# Request for data collection review: proposal 1") || !strings.Contains(out, "https://tracker.example/3") ||
		!strings.Contains(out, "none") || !strings.Contains(out, "_Not answered yet._") {
		t.Fatalf("doc: %d %q", code, out)
	}
}
