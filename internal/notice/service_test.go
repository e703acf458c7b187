package notice_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/policy"
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

// TestServiceHistory: each stored registry version that changes the
// notice starts a notice version dated by that registry version; one that
// changes nothing the notice says (the owner's address) does not.
func TestServiceHistory(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	clock := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	regs := registry.NewSource(st, func() time.Time { return clock }, nil)
	pol := policy.NewSource(policy.DefaultYAML, "built-in policy", regs, nil)
	publish := func(y []byte) {
		t.Helper()
		if _, _, err := regs.Publish(ctx, y, "test", registry.Approval{By: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	in := inputs(nil, nil)
	svc := &notice.Service{Registry: regs, Policy: pol, Versions: st, Settings: in}

	v1 := registry.DefaultYAML
	publish(v1)
	h, err := svc.History(ctx)
	if err != nil || len(h) != 1 || h[0].Number != 1 || h[0].Registry != 1 || !h[0].Since.Equal(clock) || h[0].Changes != nil {
		t.Fatalf("first history: %+v %v", h, err)
	}
	first := h[0].Notice

	clock = clock.Add(24 * time.Hour)
	publish(bytes.Replace(v1, []byte("owner: ops@example.org"), []byte("owner: sre@example.org"), 1))
	clock = clock.Add(24 * time.Hour)
	v3 := bytes.Replace(v1, []byte("    retention: 120d\n    owner: kpi-team"), []byte("    retention: 90d\n    owner: kpi-team"), 1)
	publish(v3)
	h, err = svc.History(ctx)
	if err != nil || len(h) != 2 {
		t.Fatalf("history after three registry versions: %d versions, %v", len(h), err)
	}
	if h[1].Number != 2 || h[1].Registry != 3 || !h[1].Since.Equal(clock) {
		t.Fatalf("second notice version: number %d, registry %d, since %s", h[1].Number, h[1].Registry, h[1].Since)
	}
	en := languages(t).Get("en")
	if len(h[1].Changes) != 1 || en.Change(h[1].Changes[0]) != "interaction_data is now kept for a shorter time: 90 days instead of 120 days." {
		t.Fatalf("changes: %+v", h[1].Changes)
	}
	if h[0].Notice != first {
		t.Fatal("the first version's notice was built again: it should be kept in memory")
	}
	cur, err := svc.Current(ctx)
	if err != nil || cur.Number != 2 {
		t.Fatalf("current: %+v %v", cur, err)
	}
	again, _ := svc.Current(ctx)
	if again.Notice != cur.Notice {
		t.Fatal("the notice in force was built twice for one registry version")
	}

	// Build: the notice a proposal would give, for the review's diff.
	proposal, problems := registry.ParseWith(append(bytes.Clone(v3), []byte(`
  signup:
    description: Sign-up funnel steps.
    purpose: product_improvement
    lawful_basis: consent
    retention: 30d
    owner: kpi-team@example.org
    expires: never
    fields:
      step: {type: enum, values: [start, done], category: 2}
`)...), "proposal", registry.Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	proposed, err := svc.Build(proposal)
	if err != nil {
		t.Fatal(err)
	}
	changes := notice.Diff(cur.Notice, proposed)
	if len(changes) != 1 || changes[0].Kind != notice.ChangeDatasetAdded || !strings.Contains(en.Change(changes[0]), "New dataset signup") {
		t.Fatalf("proposal diff: %+v", changes)
	}
	// Nobody may read the proposed dataset yet: the policy names it not.
	if d := proposed.Datasets[len(proposed.Datasets)-1]; len(d.Readers) != 0 {
		t.Fatalf("readers of a dataset the policy does not name: %+v", d.Readers)
	}
	if d := notice.Diff(cur.Notice, mustBuild(t, svc, regs.Current())); len(d) != 0 {
		t.Fatalf("Build of the registry in force differs from Current: %+v", d)
	}
}

func mustBuild(t *testing.T, svc *notice.Service, reg *registry.Registry) *notice.Notice {
	t.Helper()
	n, err := svc.Build(reg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServiceWithoutStore: a registry that was never stored has a history
// of one undated version.
func TestServiceWithoutStore(t *testing.T) {
	reg := wideRegistry(t)
	svc := &notice.Service{Registry: registry.Static(reg), Policy: policy.StaticSource(widePolicy(t, reg)), Settings: inputs(nil, nil)}
	h, err := svc.History(context.Background())
	if err != nil || len(h) != 1 || h[0].Number != 1 || !h[0].Since.IsZero() {
		t.Fatalf("%+v %v", h, err)
	}
	again, _ := svc.Current(context.Background())
	if again.Notice != h[0].Notice {
		t.Fatal("built twice")
	}
}
