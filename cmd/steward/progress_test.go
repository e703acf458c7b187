package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// lockedBuffer is a terminal stand-in the bar may draw on from its own
// goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// logDir is a data folder whose access log has n entries.
func logDir(t *testing.T, n int) string {
	t.Helper()
	dir := migratedDir(t)
	ctx := context.Background()
	st, err := backends.Open(ctx, "", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	batch := make([]*store.AccessEntry, n)
	for i := range batch {
		batch[i] = &store.AccessEntry{At: time.Unix(1_800_000_000+int64(i), 0), Actor: "dashboard", AuthMethod: "token", Role: "analyst",
			Purpose: "product_improvement", Dataset: "interaction_data", Query: "events", Records: 1, Subjects: 1,
			SubjectKeys: []string{fmt.Sprintf("%064x", i)}, Decision: accesslog.Allowed, Reason: "within policy"}
	}
	if err := st.AppendAccess(ctx, batch, func(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) }); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withTerminal runs fn as if stderr were (or were not) a terminal, with
// bars drawn at once into the returned buffer.
func withTerminal(t *testing.T, tty bool, fn func()) string {
	t.Helper()
	out := &lockedBuffer{}
	oldTTY, oldOut, oldDelay := stderrIsTerminal, progressOut, progressDelay
	stderrIsTerminal, progressOut, progressDelay = func() bool { return tty }, out, 0
	defer func() { stderrIsTerminal, progressOut, progressDelay = oldTTY, oldOut, oldDelay }()
	fn()
	return out.String()
}

// On a terminal, log verify shows how far it is; the results on stdout
// are the same either way, and piped it draws nothing at all.
func TestLogVerifyProgress(t *testing.T) {
	dir := logDir(t, 20_000)
	verify := func() string {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"log", "verify", "--data", dir}, &stdout, &stderr); code != 0 {
			t.Fatalf("verify: %d %s %s", code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	var onTTY, piped string
	drawn := withTerminal(t, true, func() { onTTY = verify() })
	if !strings.Contains(drawn, "verifying the access log") || !strings.Contains(drawn, "/20000") || !strings.Contains(drawn, "\r") {
		t.Fatalf("no progress on a terminal: %q", drawn)
	}
	if quiet := withTerminal(t, false, func() { piped = verify() }); quiet != "" {
		t.Fatalf("progress drawn while piped: %q", quiet)
	}
	strip := func(s string) string { return s[strings.Index(s, ", head"):] } // the time taken differs
	if !strings.HasPrefix(onTTY, "ok: 20000 entries verified") || strip(onTTY) != strip(piped) {
		t.Fatalf("results differ:\n%s\n%s", onTTY, piped)
	}
}

// Applying migrations turns a spinner on a terminal, and nothing piped.
func TestMigrateProgress(t *testing.T) {
	for _, tty := range []bool{true, false} {
		dir := t.TempDir()
		var stdout bytes.Buffer
		drawn := withTerminal(t, tty, func() {
			if code := run(context.Background(), []string{"migrate", "--data", dir}, &stdout, &stdout); code != 0 {
				t.Fatalf("migrate: %s", stdout.String())
			}
		})
		if !strings.Contains(stdout.String(), "applied 0001") {
			t.Fatalf("migrate: %s", stdout.String())
		}
		if tty != strings.Contains(drawn, "applying migrations") {
			t.Errorf("terminal %v: drawn %q", tty, drawn)
		}
	}
}

// The real binary, its stderr a pipe: results on stdout, nothing else.
func TestProgressQuietWhenPiped(t *testing.T) {
	dir := logDir(t, 20_000)
	for _, args := range [][]string{{"log", "verify", "--data", dir}, {"migrate", "--data", dir}} {
		code, stdout, stderr := runBinary(t, nil, args...)
		if code != 0 || stderr != "" || strings.ContainsAny(stdout, "\r\x1b") {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
