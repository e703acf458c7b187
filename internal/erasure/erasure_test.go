package erasure_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// twoDatasets suppresses for 10 days in short and for its 30-day retention
// in long.
const twoDatasets = `controller: {name: X, contact: x@example.org}
datasets:
  short:
    description: d
    purpose: p
    lawful_basis: consent
    retention: 365d
    suppress_erased: 10d
    owner: o@example.org
    expires: never
    subject: {field: id, kind: direct}
    fields:
      id: {type: string, category: 2}
  long:
    description: d
    purpose: p
    lawful_basis: consent
    retention: 30d
    owner: o@example.org
    expires: never
    subject: {field: id, kind: direct}
    fields:
      id: {type: string, category: 2}
`

func setup(t testing.TB) (*sqlite.Store, *registry.Registry, *clock.Fake) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg, probs := registry.Parse([]byte(twoDatasets), "r.yaml")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	return st, reg, clock.NewFake(t0)
}

// Two nodes' lists on one store: deactivation suppresses everywhere once
// each has refreshed, until each dataset's time after the purge has passed.
func TestList(t *testing.T) {
	ctx := context.Background()
	st, reg, clk := setup(t)
	a := erasure.New(st, registry.Static(reg), clk.Now, nil)
	b := erasure.New(st, registry.Static(reg), clk.Now, nil)
	short, long := reg.Dataset("short"), reg.Dataset("long")
	state := func(l *erasure.List, key string) string {
		return fmt.Sprint(l.Suppressed(short, key, clk.Now()), l.Suppressed(long, key, clk.Now()))
	}
	if err := st.AddErasedSubjects(ctx, "r1", []string{"k1", "k1b"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if changed, err := a.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if got := state(a, "k1") + " " + state(a, "k1b") + " " + state(a, "k2") + " " + state(a, ""); got != "true true true true false false false false" {
		t.Fatalf("node a after deactivation: %s", got)
	}
	if got := state(b, "k1"); got != "false false" {
		t.Fatalf("node b before its refresh: %s", got)
	}
	if changed, _ := a.Refresh(ctx); changed {
		t.Fatal("a second refresh with nothing new reported a change")
	}
	b.Refresh(ctx)
	// Pending for as long as the grace period lasts, whatever the datasets say.
	clk.Advance(60 * 24 * time.Hour)
	if got := state(b, "k1"); got != "true true" {
		t.Fatalf("node b while the purge waits: %s", got)
	}
	st.MarkErasedPurged(ctx, "r1", clk.Now())
	a.Refresh(ctx)
	b.Refresh(ctx)
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "true true"},
		{10*24*time.Hour - time.Second, "true true"},
		{time.Second, "false true"},
		{20*24*time.Hour - time.Second, "false true"},
		{time.Second, "false false"},
	} {
		clk.Advance(step.advance)
		if got := state(a, "k1") + "|" + state(b, "k1"); got != step.want+"|"+step.want {
			t.Fatalf("%s after the purge: %s, want %s on both", clk.Now().Sub(t0.Add(60*24*time.Hour)), got, step.want)
		}
	}
	// A second request erasing a key again suppresses it again.
	st.AddErasedSubjects(ctx, "r2", []string{"k1"}, clk.Now())
	a.Refresh(ctx)
	if got := state(a, "k1"); got != "true true" {
		t.Fatalf("erased again: %s", got)
	}
	// The store forgets only what no dataset suppresses any more.
	clk.Advance(time.Second)
	if n, err := a.Forget(ctx); err != nil || n != 2 {
		t.Fatalf("forget: %d %v", n, err)
	}
	st.MarkErasedPurged(ctx, "r2", clk.Now())
	if n, _ := a.Forget(ctx); n != 0 {
		t.Fatalf("forgot a key purged just now: %d", n)
	}
}

// TestWatch: a node polling picks up another node's deactivation within
// its interval.
func TestWatch(t *testing.T) {
	st, reg, clk := setup(t)
	l := erasure.New(st, registry.Static(reg), clk.Now, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Watch(ctx, 10*time.Millisecond)
	start := time.Now()
	st.AddErasedSubjects(ctx, "r1", []string{"k1"}, clk.Now())
	for !l.Suppressed(reg.Dataset("short"), "k1", clk.Now()) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("not suppressed after 5s of polling every 10ms")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkSuppressed is the check collection makes per event, with 10 000
// keys on the list, for a key that is not on it.
func BenchmarkSuppressed(b *testing.B) {
	ctx := context.Background()
	st, reg, clk := setup(b)
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("%064x", i)
	}
	if err := st.AddErasedSubjects(ctx, "r", keys, clk.Now()); err != nil {
		b.Fatal(err)
	}
	l := erasure.New(st, registry.Static(reg), clk.Now, nil)
	if _, err := l.Refresh(ctx); err != nil || l.Len() != len(keys) {
		b.Fatal(l.Len(), err)
	}
	ds, key, now := reg.Dataset("short"), strings.Repeat("f", 64), clk.Now()
	for b.Loop() {
		if l.Suppressed(ds, key, now) {
			b.Fatal("suppressed")
		}
	}
}

// BenchmarkPoll is one poll that finds nothing new: what each node's
// Watch costs the database every interval.
func BenchmarkPoll(b *testing.B) {
	ctx := context.Background()
	st, reg, clk := setup(b)
	for i := range 1000 {
		st.AddErasedSubjects(ctx, fmt.Sprint("r", i), []string{fmt.Sprintf("%064x", i)}, clk.Now())
	}
	l := erasure.New(st, registry.Static(reg), clk.Now, nil)
	l.Refresh(ctx)
	for b.Loop() {
		if changed, err := l.Refresh(ctx); err != nil || changed {
			b.Fatal(changed, err)
		}
	}
}
