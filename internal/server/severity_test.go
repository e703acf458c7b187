package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

func TestSeverityOverHTTP(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) { severityOverHTTP(t, dsn(t)) })
	}
}

func severityOverHTTP(t *testing.T, dsn string) {
	n := startNode(t, testConfig(t, dsn))
	im, auditor := token(t, n, auth.IncidentManager), token(t, n, auth.Auditor)
	base := n.http.URL + "/v1/incidents"
	code, body, _ := do(t, "POST", base, im, `{"title":"export mailed to the wrong customer","dataset":"interaction_data"}`, nil)
	if code != 201 {
		t.Fatalf("open: %d %v", code, body)
	}
	id := int64(body["id"].(float64))
	url := fmt.Sprintf("%s/%d/severity", base, id)

	// The blast radius as the blast code stores it: interaction data of
	// directly identified people.
	ctx := context.Background()
	inc, err := n.srv.Store.GetIncident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	inc.Blast, _ = json.Marshal(incident.BlastRadius{Categories: []int{1, 2}, SubjectKinds: []string{"direct"}})
	if err := n.srv.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &inc) }); err != nil {
		t.Fatal(err)
	}

	// Before any assessment: the pre-score, not stored, readable by an auditor.
	code, body, _ = do(t, "GET", url, auditor, "", nil)
	if code != 200 || body["stored"] != false || body["level"] != "medium" || body["score"] != 2.0 ||
		body["dpc"].(map[string]any)["pre_why"] == "" || body["scales"].(map[string]any)["ei"] == nil {
		t.Fatalf("pre-score: %d %v", code, body)
	}
	version := int64(body["version"].(float64))

	// Bad input: 400 naming the field; nothing changes.
	for in, want := range map[string]string{
		`{"dpc":{"value":3}}`:                         "dpc.reason",
		`{"ei":{"value":0.3,"reason":"x"}}`:           "ei.value",
		`{"decision":{"art33":true,"reasoning":"x"}}`: "decision.art34",
		`{"dcp":{"value":3,"reason":"x"}}`:            "dcp",
		`{"dpc":{"value":"high","reason":"x"}}`:       "dpc.value",
	} {
		code, body, hdr := do(t, "POST", url, im, in, nil)
		if code != 400 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") || !strings.Contains(fmt.Sprint(body["detail"]), want) {
			t.Errorf("%s: %d %v", in, code, body)
		}
	}
	if code, body, _ := do(t, "POST", url, auditor, `{}`, nil); code != 403 {
		t.Fatalf("auditor may not assess: %d %v", code, body)
	}
	if after, _ := n.srv.Store.GetIncident(ctx, id); after.Version != version || after.Severity != nil {
		t.Fatalf("refused input changed the incident: %+v", after)
	}

	code, body, _ = do(t, "POST", url, im, fmt.Sprintf(`{"version":%d,
		"dpc":{"value":3,"reason":"order history of a year"},
		"decision":{"art33":true,"art34":true,"reasoning":"direct identifiers and purchase history"}}`, version), nil)
	if code != 200 || body["stored"] != true || body["level"] != "high" || body["score"] != 3.0 ||
		body["decided"].(map[string]any)["art34"] != true || body["dpc"].(map[string]any)["reason"] != "order history of a year" {
		t.Fatalf("assess: %d %v", code, body)
	}
	// The same version again is stale.
	if code, body, _ := do(t, "POST", url, im, fmt.Sprintf(`{"version":%d}`, version), nil); code != 409 {
		t.Fatalf("stale: %d %v", code, body)
	}

	// The incident shows it, and the people's clock runs.
	code, body, _ = do(t, "GET", fmt.Sprintf("%s/%d", base, id), auditor, "", nil)
	if code != 200 || body["high_risk_at"] == nil || body["severity"].(map[string]any)["level"] != "high" || body["severity"].(map[string]any)["stored"] != true {
		t.Fatalf("incident: %d %v", code, body)
	}
	running := false
	for _, c := range body["clocks"].([]any) {
		c := c.(map[string]any)
		running = running || (c["obligation"] == "subjects" && c["seconds_left"] == float64(72*3600))
	}
	if !running {
		t.Fatalf("the Art. 34 clock: %v", body["clocks"])
	}
}
