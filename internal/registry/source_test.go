package registry_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

var now = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

func TestSourcePublishAndRefresh(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	a := registry.NewSource(st, now, nil)
	v, added, err := a.Publish(ctx, registry.DefaultYAML, "built-in", registry.Approval{By: "operator", Note: "start-up", IfChanged: true})
	if err != nil || !added || v.Version != 1 || a.Version() != 1 {
		t.Fatalf("first publish: %+v %v %v", v, added, err)
	}
	if a.Current().Dataset("interaction_data") == nil || a.Current().Source != "registry version 1" {
		t.Fatalf("current: %q", a.Current().Source)
	}
	fp := a.Current().Dataset("interaction_data").Field("language").Fingerprint()
	if v.Fingerprints["interaction_data.language"] != fp || v.Fingerprints["interaction_data"] == "" {
		t.Fatalf("fingerprints not recorded: %v", v.Fingerprints)
	}
	if _, added, _ := a.Publish(ctx, registry.DefaultYAML, "built-in", registry.Approval{By: "operator", IfChanged: true}); added {
		t.Fatal("the same text stored twice")
	}

	// A second source on the same store (another node) follows on Refresh.
	b := registry.NewSource(st, now, nil)
	if changed, err := b.Refresh(ctx); err != nil || !changed || b.Version() != 1 {
		t.Fatalf("b refresh: %v %v %d", changed, err, b.Version())
	}
	next := bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: 90d"), 1)
	if _, _, err := a.Publish(ctx, next, "p.yaml", registry.Approval{By: "review r-1"}); err != nil {
		t.Fatal(err)
	}
	if b.Current().Dataset("interaction_data").Retention != 120*24*time.Hour {
		t.Fatal("b changed before it refreshed")
	}
	if changed, err := b.Refresh(ctx); err != nil || !changed || b.Current().Dataset("interaction_data").Retention != 90*24*time.Hour {
		t.Fatalf("b after refresh: %v %v", changed, err)
	}
	if changed, _ := b.Refresh(ctx); changed {
		t.Fatal("refresh with nothing new reported a change")
	}
}

func TestSourceRefusesBadVersions(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	s := registry.NewSource(st, now, nil)
	var pe *registry.ProblemsError
	if _, _, err := s.Publish(ctx, []byte("datasets: {x: {colour: blue}}\n"), "bad.yaml", registry.Approval{By: "x"}); !errors.As(err, &pe) || !strings.Contains(err.Error(), "bad.yaml:1") {
		t.Fatalf("lint problems: %v", err)
	}
	s.Check(func(r *registry.Registry) error {
		if r.Dataset("request_log") == nil {
			return errors.New("request_log is required")
		}
		return nil
	})
	without := bytes.Replace(registry.DefaultYAML, []byte("  request_log:"), []byte("  request_logs:"), 1)
	if _, _, err := s.Publish(ctx, without, "p.yaml", registry.Approval{By: "x"}); err == nil || !strings.Contains(err.Error(), "request_log is required") {
		t.Fatalf("check: %v", err)
	}
	if head, _ := st.RegistryHead(ctx); head != 0 {
		t.Fatalf("refused versions stored: head %d", head)
	}
	if _, err := s.Refresh(ctx); err == nil {
		t.Fatal("refresh of an empty store succeeded")
	}
}

func TestDiff(t *testing.T) {
	a, _ := registry.Parse(registry.DefaultYAML, "a")
	y := bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: 90d\n    suppress_erased: 30d"), 1)
	y = bytes.Replace(y, []byte("language:      {type: string, max_length: 16, category: 1"), []byte("language:      {type: string, max_length: 32, category: 3"), 1)
	y = bytes.Replace(y, []byte("      new_account:   {type: boolean, category: 2, description: Whether the account is new in the last 24 hours.}\n"), nil, 1)
	y = bytes.Replace(y, []byte("      sample_rate:   {type: number"), []byte("      theme:         {type: enum, values: [light, dark], category: 1}\n      sample_rate:   {type: number"), 1)
	b, probs := registry.Parse(y, "b")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	var got []string
	for _, c := range registry.Diff(a, b) {
		got = append(got, c.String())
	}
	want := []string{
		"~ interaction_data (category 3): retention: 120d → 90d; suppress_erased: (none) → 30d",
		"~ interaction_data.language (category 3): category: 1 → 3; max_length: 16 → 32",
		"+ interaction_data.theme (category 1): enum, category 1",
		"- interaction_data.new_account (category 2)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := registry.Diff(a, a); len(d) != 0 {
		t.Fatalf("a registry differs from itself: %v", d)
	}
}

// BenchmarkRegistryHead is what each node's poll costs the database.
func BenchmarkRegistryHead(b *testing.B) {
	ctx := context.Background()
	st := openSQLite(b)
	s := registry.NewSource(st, now, nil)
	for i := range 50 {
		y := bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: "+string(rune('1'+i%9))+"d"), 1)
		if _, _, err := s.Publish(ctx, y, "p", registry.Approval{By: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
