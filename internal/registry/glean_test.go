package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/registry"
)

const gleanYAML = `controller: {name: Example Ltd, contact: privacy@example.org}
datasets:
  org_example_app_metrics:
    description: The metrics ping.
    purpose: product_improvement
    lawful_basis: legitimate_interest
    retention: 120d
    owner: team@example.org
    expires: never
    glean: {app_id: org-example-app, ping: metrics, include_client_id: true, reasons: [overdue, today]}
    subject: {field: client_id, kind: pseudonymous}
    fields:
      client_id: {type: uuid, category: 1, minimise: {hash: true}}
      browser__clicks: {type: integer, min: 0, category: CAT, glean: {metric: browser.clicks, type: counter, lifetime: ping}}
`

func TestGleanAttributes(t *testing.T) {
	r, probs := registry.Parse([]byte(strings.Replace(gleanYAML, "CAT", "2", 1)), "g.yaml")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	d := r.DatasetByGlean("org.example.APP", "metrics")
	if d == nil || d.Glean.IncludeClientID != true || len(d.Glean.Reasons) != 2 {
		t.Fatalf("dataset by glean: %+v", d)
	}
	f := d.FieldByMetric("browser.clicks")
	if f == nil || f.Glean.Type != "counter" || f.Unclassified {
		t.Fatalf("field by metric: %+v", f)
	}
	if r.DatasetByGlean("org-example-app", "baseline") != nil {
		t.Fatal("an undeclared ping found a dataset")
	}

	// Unclassified lints (so it can be proposed), counts as category 4,
	// and is never published.
	u, probs := registry.Parse([]byte(strings.Replace(gleanYAML, "CAT", "unclassified", 1)), "g.yaml")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	uf := u.Dataset("org_example_app_metrics").Field("browser__clicks")
	if !uf.Unclassified || uf.Category != registry.CategoryHighlySensitive || uf.Fingerprint() == f.Fingerprint() {
		t.Fatalf("unclassified: %+v", uf)
	}
	src := registry.NewSource(openSQLite(t), now, nil)
	if _, _, err := src.Prepare([]byte(strings.Replace(gleanYAML, "CAT", "unclassified", 1)), "p", registry.Approval{}); err != nil {
		t.Fatalf("a proposal with an unclassified field was refused: %v", err)
	}
	_, _, err := src.Publish(context.Background(), []byte(strings.Replace(gleanYAML, "CAT", "unclassified", 1)), "p", registry.Approval{By: "review"})
	var pe *registry.ProblemsError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "browser__clicks.category: unclassified; a person must assign") {
		t.Fatalf("published an unclassified field: %v", err)
	}
}

func TestGleanLint(t *testing.T) {
	for edit, want := range map[[2]string]string{
		{"ping: metrics", "ping: ../x"}:                "is not a Glean ping name",
		{"app_id: org-example-app", "app_id: a/b"}:     "is not a Glean application id",
		{"metric: browser.clicks", "metric: Browser"}:  "is not a Glean metric id",
		{"type: counter", "type: histogram"}:           "is not a Glean metric type",
		{"lifetime: ping", "lifetime: forever"}:        "must be ping, user or application",
		{"    glean: {app_id", "    x_glean: {app_id"}: "unknown key \"x_glean\"",
	} {
		_, probs := registry.Parse([]byte(strings.Replace(strings.Replace(gleanYAML, "CAT", "2", 1), edit[0], edit[1], 1)), "g.yaml")
		if len(probs) == 0 || !strings.Contains(probs[0].String(), want) {
			t.Errorf("%s: got %v, want %q", edit[1], probs, want)
		}
	}
	alias := strings.Replace(strings.Replace(gleanYAML, "CAT", "2", 1), "expires: never", "expires: never\n    path_alias: /submit/org-example-app/metrics", 1)
	if _, probs := registry.Parse([]byte(alias), "g.yaml"); len(probs) == 0 || !strings.Contains(probs[0].Message, "/submit/ is reserved") {
		t.Errorf("a path alias under /submit/: %v", probs)
	}
}
