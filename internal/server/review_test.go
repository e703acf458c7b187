package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
)

// withReferrer adds a category-3 field to the built-in interaction_data.
func withReferrer(y []byte) []byte {
	return bytes.Replace(y, []byte("      language:      {type: string"),
		[]byte("      referrer:      {type: string, max_length: 200, category: 3, description: The page the dialog was opened from.}\n      language:      {type: string"), 1)
}

var reviewChecklist = map[string]string{"documentation": "registry", "user_control": "opt-out, DNT, GPC", "monitoring": "expires",
	"category": "3", "default": "on", "new_identifiers": "none", "notice": "yes", "third_party": "no"}

func api(t *testing.T, method, url, tok string, body any) (int, map[string]any) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	status, out, _ := do(t, method, url, tok, string(b), nil)
	return status, out
}

// TestReviewThroughTheAPI: a category-3 field is refused while under
// review, naming its proposal, and collected once three reviewers signed.
func TestReviewThroughTheAPI(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			base := n.http.URL
			dev, sup := token(t, n, auth.Analyst), token(t, n, auth.Support)
			tok := map[auth.Role]string{}
			for _, r := range []auth.Role{auth.PrivacyReviewer, auth.LegalReviewer, auth.SecurityReviewer, auth.ProductOwner} {
				tok[r] = token(t, n, r)
			}
			proposal := map[string]any{"registry": string(withReferrer(registry.DefaultYAML)), "answers": reviewAnswers,
				"links": []string{"https://tracker.example/7"}, "submit": true}

			// Bad input first: each is specific and stores nothing.
			bad := map[string]any{"registry": strings.Replace(string(withReferrer(registry.DefaultYAML)), "type: string, max_length: 200", "type: strng", 1)}
			if status, out := api(t, "POST", base+"/v1/reviews", dev, bad); status != 400 || out["type"] != "urn:steward:problem:registry-problems" ||
				!strings.Contains(fmt.Sprint(out["errors"]), "Line:") {
				t.Fatalf("lint failure: %d %v", status, out)
			}
			if status, out := api(t, "POST", base+"/v1/reviews", dev, map[string]any{"registry": string(registry.DefaultYAML)}); status != 400 || out["type"] != "urn:steward:problem:no-change" {
				t.Fatalf("no change: %d %v", status, out)
			}
			if status, _ := api(t, "POST", base+"/v1/reviews", sup, proposal); status != 403 {
				t.Fatalf("support proposes: %d", status)
			}
			if status, out := api(t, "POST", base+"/v1/reviews", dev, `{"registry": 5}`); status != 400 || out["type"] != "urn:steward:problem:bad-json" {
				t.Fatalf("bad json: %d %v", status, out)
			}
			if ps, _ := n.srv.Store.ListProposals(t.Context(), store.ProposalQuery{}); len(ps) != 0 {
				t.Fatalf("bad input stored %d proposals", len(ps))
			}

			status, out := api(t, "POST", base+"/v1/reviews", dev, proposal)
			if status != 201 {
				t.Fatalf("propose: %d %v", status, out)
			}
			p := out["proposal"].(map[string]any)
			id, rev := int(p["id"].(float64)), int(p["revision"].(float64))
			if p["state"] != "in_review" || fmt.Sprint(p["required"]) != "[privacy_reviewer legal_reviewer security_reviewer]" {
				t.Fatalf("proposal: %v", p)
			}
			if err := n.srv.Reviews.RefreshPending(t.Context()); err != nil {
				t.Fatal(err)
			}
			br := newBrowser(t, base)
			event := func() (*http.Response, map[string]any) {
				return br.post("/wsapi/interaction_data", fmt.Sprintf(`{"event_id":"%s","referrer":"https://example.org/shop","language":"en"}`, uuid.NewString()), nil)
			}
			resp, body := event()
			if resp.StatusCode != 403 || body["type"] != "urn:steward:problem:unapproved-field" ||
				!strings.Contains(fmt.Sprint(body["errors"]), fmt.Sprintf("referrer problem:under review (new field in proposal %d, in_review)", id)) {
				t.Fatalf("field under review: %d %v", resp.StatusCode, body)
			}

			url := fmt.Sprintf("%s/v1/reviews/%d", base, id)
			sign := func(r auth.Role, revision int) (int, map[string]any) {
				return api(t, "POST", url+"/signoff", tok[r], map[string]any{"revision": revision, "decision": "approve", "checklist": reviewChecklist})
			}
			if status, out := api(t, "POST", url+"/signoff", dev, map[string]any{"revision": rev, "decision": "approve", "checklist": reviewChecklist}); status != 403 {
				t.Fatalf("proposer signs: %d %v", status, out)
			}
			if status, out := sign(auth.PrivacyReviewer, rev+1); status != 409 || out["type"] != "urn:steward:problem:stale" {
				t.Fatalf("stale sign-off: %d %v", status, out)
			}
			if status, out := sign(auth.PrivacyReviewer, 0); status != 400 || !strings.Contains(fmt.Sprint(out["detail"]), "revision") {
				t.Fatalf("sign-off without a revision: %d %v", status, out)
			}
			if status, out := api(t, "POST", url+"/decide", tok[auth.ProductOwner], map[string]any{"outcome": "approve", "text": "yes"}); status != 409 {
				t.Fatalf("decide without escalation: %d %v", status, out)
			}
			for _, r := range []auth.Role{auth.PrivacyReviewer, auth.LegalReviewer, auth.SecurityReviewer} {
				if status, out := sign(r, rev); status != 200 {
					t.Fatalf("%s signs: %d %v", r, status, out)
				}
			}
			status, out = api(t, "GET", url, dev, nil)
			if status != 200 || out["proposal"].(map[string]any)["state"] != "approved" || out["complete"] != true {
				t.Fatalf("after sign-offs: %d %v", status, out)
			}
			if status, _ := sign(auth.PrivacyReviewer, rev); status != 409 {
				t.Fatalf("sign-off on an approved proposal: %d", status)
			}
			if resp, body := event(); resp.StatusCode != 200 {
				t.Fatalf("approved field: %d %v", resp.StatusCode, body)
			}

			req, _ := http.NewRequest("GET", url+"/request.md", nil)
			req.Header.Set("Authorization", "Bearer "+dev)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			md, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/markdown") ||
				!strings.Contains(string(md), "| new field `interaction_data.referrer` |") || !strings.Contains(string(md), "Where do people who fail to sign in come from?") {
				t.Fatalf("document: %d %s", res.StatusCode, md)
			}
			if status, out := api(t, "GET", base+"/v1/reviews?state=approved&min_category=3", dev, nil); status != 200 || len(out["proposals"].([]any)) != 1 {
				t.Fatalf("list: %d %v", status, out)
			}
			if status, _ := api(t, "GET", base+"/v1/reviews?state=bogus", dev, nil); status != 400 {
				t.Fatalf("bad filter: %d", status)
			}
			metrics := get(t, base+"/metrics")
			if !strings.Contains(metrics, `steward_collect_rejected_requests_total{dataset="interaction_data",reason="unapproved"} 1`) {
				t.Fatal("the refused event is not counted")
			}
		})
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestStartupFileIsAProposal: nothing is approved silently. A changed
// start-up file waits for review; an operator override approves it and
// every record says so.
func TestStartupFileIsAProposal(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "next.yaml")
	if err := os.WriteFile(file, withReferrer(registry.DefaultYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "")
	cfg.ApproveRegistry = ""
	first := startNode(t, cfg) // the built-in example, approved as shipped
	if v, _ := first.srv.Store.GetRegistryVersion(t.Context(), 1); v.ApprovedBy != "built-in example" {
		t.Fatalf("built-in version: %+v", v)
	}
	first.srv.Close()

	cfg.Registry = file
	n := startNode(t, cfg)
	if n.srv.Registry.Version() != 1 || n.srv.Registry.Current().Dataset("interaction_data").Field("referrer") != nil {
		t.Fatal("the start-up file is in force without review")
	}
	if !strings.Contains(n.logs.String(), "it is a proposal and is not collected until approved") || !strings.Contains(n.logs.String(), `"proposal":1`) {
		t.Fatalf("the log does not name the proposal:\n%s", n.logs.String())
	}
	br := newBrowser(t, n.http.URL)
	if resp, _ := br.post("/wsapi/interaction_data", `{"referrer":"https://example.org/"}`, nil); resp.StatusCode != 403 {
		t.Fatalf("field of the start-up proposal: %d", resp.StatusCode)
	}
	n.srv.Close()
	again := startNode(t, cfg)
	if ps, _ := again.srv.Store.ListProposals(t.Context(), store.ProposalQuery{}); len(ps) != 1 {
		t.Fatalf("a restart with the same file made %d proposals", len(ps))
	}
	again.srv.Close()

	cfg.ApproveRegistry = "agreed in ticket 7"
	over := startNode(t, cfg)
	v, err := over.srv.Store.GetRegistryVersion(t.Context(), 2)
	if err != nil || v.ApprovedBy != "operator (override)" || v.Proposal != 1 || !strings.Contains(v.Note, "agreed in ticket 7") {
		t.Fatalf("override version: %+v %v", v, err)
	}
	view, err := over.srv.Reviews.Get(t.Context(), 1)
	if err != nil || view.Proposal.State != "approved" || view.History[len(view.History)-1].Action != "override" {
		t.Fatalf("override history: %+v %v", view, err)
	}
	md, _ := over.srv.Reviews.Document(view).Markdown()
	if !strings.Contains(string(md), "Approved by operator override, without review.** Reason given: agreed in ticket 7") {
		t.Fatalf("document:\n%s", md)
	}
	if over.srv.Registry.Current().Dataset("interaction_data").Field("referrer") == nil {
		t.Fatal("the overridden file is not in force")
	}
}

// TestFreshDatabaseWithOwnRegistry: with nothing approved yet, a custom
// start-up file collects nothing until its proposal is approved.
func TestFreshDatabaseWithOwnRegistry(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "own.yaml")
	os.WriteFile(file, registry.DefaultYAML, 0o600)
	cfg := testConfig(t, "")
	cfg.ApproveRegistry, cfg.Registry = "", file
	n := startNode(t, cfg)
	if n.srv.Registry.Version() != 0 || len(n.srv.Registry.Current().Datasets) != 0 {
		t.Fatal("an unreviewed registry is in force")
	}
	br := newBrowser(t, n.http.URL)
	resp, body := br.post("/v1/collect/interaction_data", `{"language":"en"}`, nil)
	if resp.StatusCode != 403 || body["type"] != "urn:steward:problem:unapproved-dataset" || !strings.Contains(fmt.Sprint(body["detail"]), "new dataset in proposal 1") {
		t.Fatalf("dataset under review: %d %v", resp.StatusCode, body)
	}
}

// TestExpiredFieldIsRefused: a field past its own expiry answers 410
// naming it; the rest of the dataset is still collected.
func TestExpiredFieldIsRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "r.yaml")
	y := bytes.Replace(registry.DefaultYAML, []byte("language:      {type: string, max_length: 16, category: 1,"),
		[]byte("language:      {type: string, max_length: 16, category: 1, expires: 2026-01-01,"), 1)
	os.WriteFile(file, y, 0o600)
	cfg := testConfig(t, "")
	cfg.Registry = file
	n := startNode(t, cfg)
	br := newBrowser(t, n.http.URL)
	resp, body := br.post("/wsapi/interaction_data", `{"language":"en","new_account":true}`, nil)
	if resp.StatusCode != 410 || body["type"] != "urn:steward:problem:expired-field" || !strings.Contains(fmt.Sprint(body["detail"]), "language: expired on 2026-01-01") {
		t.Fatalf("expired field: %d %v", resp.StatusCode, body)
	}
	if resp, body := br.post("/wsapi/interaction_data", `{"new_account":true}`, nil); resp.StatusCode != 200 {
		t.Fatalf("without the expired field: %d %v", resp.StatusCode, body)
	}
}

// TestNoticeDecidesLegal: the review asks the generated public notice
// whether a change alters it. Longer retention does; the owner's address,
// which the notice does not show, does not.
func TestNoticeDecidesLegal(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	dev := review.Actor{ID: "dev@example.org", Role: auth.Analyst}
	for _, c := range []struct {
		from, to, want string
	}{
		{"retention: 120d", "retention: 365d", "data_steward,legal_reviewer"},
		{"owner: kpi-team@example.org", "owner: growth@example.org", "data_steward"},
	} {
		p, err := n.srv.Reviews.Propose(t.Context(), dev, review.Input{YAML: bytes.Replace(registry.DefaultYAML, []byte(c.from), []byte(c.to), 1)}, false)
		if err != nil {
			t.Fatal(err)
		}
		v, err := n.srv.Reviews.View(t.Context(), p)
		if err != nil || strings.Join(p.Required, ",") != c.want {
			t.Errorf("%s → %s: needs %v (notice: %v) %v, want %s", c.from, c.to, p.Required, v.Notice, err, c.want)
		}
		if c.want != "data_steward" && (len(v.Notice) == 0 || !strings.Contains(strings.Join(v.Notice, " "), "365")) {
			t.Errorf("the notice's words for %s: %v", c.to, v.Notice)
		}
	}
}
