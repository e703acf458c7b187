package server

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
)

// scrape returns /metrics as series → value.
func scrape(t *testing.T, n *node) map[string]float64 {
	t.Helper()
	resp, err := http.Get(n.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

var seriesLabelRE = regexp.MustCompile(`([a-z_]+)="`)

// /metrics covers what an operator watches besides collection: requests by
// state, the outbox's depth and outcomes, access-log appends and the chain
// checks before signing, and retention sweeps, with one vocabulary of
// label names.
func TestMetricsCoverOperations(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	b := newBrowser(t, n.http.URL)
	if resp, _ := b.post("/v1/collect/interaction_data", sampleEvent, nil); resp.StatusCode != 200 {
		t.Fatalf("collect: %d", resp.StatusCode)
	}
	b.post("/v1/collect/interaction_data", sampleEvent, map[string]string{"DNT": "1"})
	analyst := token(t, n, auth.Analyst)
	readEvents(t, n.http.URL, analyst, "interaction_data", dayRange+"&purpose=product_improvement")
	readEvents(t, n.http.URL, analyst, "interaction_data", dayRange+"&purpose=data_quality") // denied
	if _, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "ana@example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "bo@example.org"}); err != nil {
		t.Fatal(err)
	}
	before := scrape(t, n)
	if before[`steward_outbox_pending_messages{kind="email"}`] != 2 {
		t.Fatalf("pending before delivery: %v", before[`steward_outbox_pending_messages{kind="email"}`])
	}
	deliver(t, n)
	n.srv.Sweeper.SweepOnce(ctx)
	if _, _, err := n.srv.Checkpoints.Take(ctx); err != nil {
		t.Fatal(err)
	}
	got := scrape(t, n)
	for series, want := range map[string]float64{
		`steward_requests{state="waiting_for_email_confirmation"}`:                                2,
		`steward_requests{state="done"}`:                                                          0,
		`steward_requests_overdue`:                                                                0,
		`steward_outbox_pending_messages{kind="email"}`:                                           0,
		`steward_outbox_attempts_total{kind="email",outcome="sent"}`:                              2,
		`steward_outbox_attempts_total{kind="email",outcome="given_up"}`:                          0,
		`steward_access_log_appends_total{decision="allowed"}`:                                    1,
		`steward_access_log_appends_total{decision="denied"}`:                                     1,
		`steward_access_log_verifications_total{outcome="ok"}`:                                    1,
		`steward_access_log_verified_seq`:                                                         2,
		`steward_retention_sweeps_total{dataset="interaction_data",outcome="ok"}`:                 1,
		`steward_retention_deleted_events_total{dataset="interaction_data"}`:                      0,
		`steward_collect_events_total{dataset="interaction_data",outcome="dropped",reason="dnt"}`: 1,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	if got[`steward_retention_last_sweep_timestamp_seconds{dataset="request_log"}`] != float64(testNow.Unix()) {
		t.Errorf("last sweep: %v", got[`steward_retention_last_sweep_timestamp_seconds{dataset="request_log"}`])
	}
	// One vocabulary: dataset, outcome, reason, kind, state, decision.
	allowed := []string{"dataset", "outcome", "reason", "kind", "state", "decision", "le"}
	for series := range got {
		if !strings.HasPrefix(series, "steward_") {
			continue
		}
		for _, m := range seriesLabelRE.FindAllStringSubmatch(series, -1) {
			if !slices.Contains(allowed, m[1]) {
				t.Errorf("%s: label %q is not one of %v", series, m[1], allowed)
			}
		}
	}
}

// The tab shows steward's icon: /favicon.ico (where browsers look
// unasked) and the SVG every page links to.
func TestFavicon(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	for _, path := range []string{"/favicon.ico", "/static/favicon.svg"} {
		resp, err := http.Get(n.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(body), "<svg") || len(body) > 2048 {
			t.Errorf("%s: %d %q %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	resp, err := http.Get(n.http.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`) {
		t.Errorf("the layout does not link the icon:\n%s", body)
	}
}

// /v1/datasets shows retention as the registry writes it, to every role a
// person holds; the app role reads nothing (docs/roles.md).
func TestDatasetsDescription(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	status, body, _ := do(t, "GET", n.http.URL+"/v1/datasets", token(t, n, auth.PrivacyReviewer), "", nil)
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	for _, d := range body["datasets"].([]any) {
		if r := d.(map[string]any)["retention"]; r != "120d" {
			t.Errorf("retention %v, want 120d as written", r)
		}
	}
	if status, prob, _ := do(t, "GET", n.http.URL+"/v1/datasets", token(t, n, auth.App), "", nil); status != 403 {
		t.Fatalf("app role: %d %v", status, prob)
	}
}
