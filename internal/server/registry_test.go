package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// newVersion is the built-in registry with one field added to
// interaction_data and one new dataset behind a new path alias.
var newVersion = append(bytes.Clone(registry.DefaultYAML), []byte(`
  signup:
    description: Sign-up funnel steps.
    purpose: product_improvement
    lawful_basis: legitimate_interest
    retention: 30d
    owner: kpi-team@example.org
    expires: never
    path_alias: /wsapi/signup
    fields:
      step: {type: enum, values: [start, verify, done], category: 2, description: Step reached.}
`)...)

func withTheme(y []byte) []byte {
	return bytes.Replace(y, []byte("      language:      {type: string"),
		[]byte("      theme:         {type: enum, values: [light, dark], category: 1, description: Colour scheme.}\n      language:      {type: string"), 1)
}

// TestRegistryHotPublish publishes a version on one node and collects the
// new field and the new dataset's alias on another node sharing the
// database, with no restart.
func TestRegistryHotPublish(t *testing.T) {
	dsn := pgSchema(t)
	a := startNode(t, testConfig(t, dsn))
	b := startNode(t, testConfig(t, dsn))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go b.srv.Registry.Watch(ctx, registry.DefaultPollEvery)
	if a.srv.Registry.Version() != 1 || b.srv.Registry.Version() != 1 {
		t.Fatalf("both nodes start with the same file: versions %d and %d, want 1", a.srv.Registry.Version(), b.srv.Registry.Version())
	}

	br := newBrowser(t, b.http.URL)
	themed := func() int {
		resp, _ := br.post("/wsapi/interaction_data", fmt.Sprintf(`{"event_id":"%s","theme":"dark","language":"en"}`, uuid.NewString()), nil)
		return resp.StatusCode
	}
	signup := func() int {
		resp, _ := br.post("/wsapi/signup", fmt.Sprintf(`{"event_id":"%s","step":"verify"}`, uuid.NewString()), nil)
		return resp.StatusCode
	}
	if got := themed(); got != http.StatusBadRequest {
		t.Fatalf("undeclared field before publishing: %d, want 400", got)
	}
	if got := signup(); got != http.StatusNotFound {
		t.Fatalf("unknown alias before publishing: %d, want 404", got)
	}

	published := time.Now()
	v, added, err := a.srv.Registry.Publish(ctx, withTheme(newVersion), "proposal.yaml", registry.Approval{By: "data steward", Note: "test review"})
	if err != nil || !added || v.Version != 2 {
		t.Fatalf("publish: %+v %v %v", v, added, err)
	}
	// In force on the publishing node at once.
	if a.srv.Registry.Current().Dataset("signup") == nil {
		t.Fatal("publishing node does not have the new version")
	}
	deadline := published.Add(5 * registry.DefaultPollEvery)
	for themed() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("node b still refuses the new field %s after publishing", time.Since(published))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("node b collected the new field %s after it was published on node a (poll every %s)", time.Since(published).Round(time.Millisecond), registry.DefaultPollEvery)
	if got := signup(); got != http.StatusOK {
		t.Fatalf("new alias on node b: %d, want 200", got)
	}
	if b.srv.Registry.Version() != 2 {
		t.Fatalf("node b is at version %d", b.srv.Registry.Version())
	}
}

// TestRegistryPublishRefused: a version the read policy no longer fits, or
// whose alias is one of steward's routes, is not stored.
func TestRegistryPublishRefused(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	noRequestLog := bytes.Replace(registry.DefaultYAML, []byte("  request_log:"), []byte("  request_logs:"), 1)
	if _, _, err := n.srv.Registry.Publish(ctx, noRequestLog, "p.yaml", registry.Approval{By: "x"}); err == nil {
		t.Fatal("a registry the policy does not fit was published")
	}
	if head, _ := n.srv.Store.RegistryHead(ctx); head != 1 {
		t.Fatalf("head %d after refused publishes, want 1", head)
	}
	// A restart with the same file stores nothing new.
	again := startNode(t, n.srv.Config)
	if again.srv.Registry.Version() != 1 {
		t.Fatalf("restart with the same file: version %d", again.srv.Registry.Version())
	}
}

// TestServeSaysWhichDataItUses: the first log line names the data folder
// and the database, so an operator sees at once which steward this is.
func TestServeSaysWhichDataItUses(t *testing.T) {
	cfg := testConfig(t, "")
	n := startNode(t, cfg)
	first, _, _ := strings.Cut(n.logs.String(), "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatal(err)
	}
	if line["msg"] != "steward is starting" || line["data"] != cfg.DataDir || line["database"] != "sqlite "+filepath.Join(cfg.DataDir, "steward.db") {
		t.Fatalf("first log line: %s", first)
	}
	pg := testConfig(t, "postgres://steward:hunter2@db.example.org:5432/steward?sslmode=disable")
	if got := backends.Describe(pg.DB, pg.DataDir); got != "postgres db.example.org:5432/steward" {
		t.Fatalf("describe: %q", got)
	}
}
