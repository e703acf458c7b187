package pgaudit_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/pgaudit"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

const childEnv = "STEWARD_PGAUDIT_CHILD"

// TestKilledTailerLosesAndRepeatsNothing kills (SIGKILL) a process whose
// tailer is part way through a log, then reads the rest with a new one:
// every mapped read is in the access log exactly once, and the chain holds.
func TestKilledTailerLosesAndRepeatsNothing(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("the child's own run")
	}
	ctx := context.Background()
	data, logs := t.TempDir(), t.TempDir()
	st, err := backends.Open(ctx, "", data, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	var sb strings.Builder
	for i := range n {
		sb.WriteString(line("bob", "public.events", fmt.Sprintf("s%d", i), i))
	}
	if err := os.WriteFile(filepath.Join(logs, "postgresql.csv"), []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTailerChildProcess$")
	cmd.Env = append(os.Environ(), childEnv+"="+data+string(os.PathListSeparator)+logs)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tl := &pgaudit.Tailer{Store: st, Dir: logs, Mapping: mapping, Holder: "node-a", Batch: 7}
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := tl.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Records > 100 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child read nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	mid, _ := tl.Stats(ctx)
	if mid.Records >= n {
		t.Logf("the child finished before it was killed (%d records); nothing was cut short", mid.Records)
	}
	// The same holder restarts (its lease is its own); everything else is
	// read from the stored position.
	if err := tl.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := st.ListAccess(ctx, store.AccessQuery{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range es {
		seen[e.Reason]++
	}
	if len(es) != n || len(seen) != n {
		t.Fatalf("%d entries, %d distinct, want %d (killed after %d records)", len(es), len(seen), n, mid.Records)
	}
	res, err := accesslog.Verify(ctx, st, accesslog.Options{})
	if err != nil || res.Break != nil {
		t.Fatalf("chain: %v %v", err, res.Break)
	}
	t.Logf("killed after %d of %d records", mid.Records, n)
}

// TestTailerChildProcess is the killed process: it reads the log in
// small rounds until it is killed.
func TestTailerChildProcess(t *testing.T) {
	dirs := os.Getenv(childEnv)
	if dirs == "" {
		t.Skip("run by TestKilledTailerLosesAndRepeatsNothing")
	}
	data, logs, _ := strings.Cut(dirs, string(os.PathListSeparator))
	ctx := context.Background()
	st, err := backends.Open(ctx, "", data, false)
	if err != nil {
		t.Fatal(err)
	}
	tl := &pgaudit.Tailer{Store: st, Dir: logs, Mapping: mapping, Holder: "node-a", Batch: 7}
	for {
		if err := tl.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
