package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store"
)

// accountsRegistry has a direct identifier stored as given (account_id) and
// a category-3 field, so withholding and identifier rules are visible.
const accountsRegistry = `controller: {name: Test Ltd, contact: privacy@example.org}
datasets:
  support_events:
    description: What happened in an account, for support.
    purpose: customer_support
    lawful_basis: contract
    retention: 30d
    owner: support@example.org
    expires: never
    subject: {field: account_id, kind: direct}
    fields:
      account_id: {type: string, max_length: 64, category: 2, description: The account.}
      action:     {type: enum, values: [login, logout, purchase], category: 2, description: What the account did.}
      message:    {type: string, max_length: 200, category: 3, description: Free text the person wrote.}
`

const accountsPolicy = `datasets:
  support_events:
    - {role: analyst, purposes: [customer_support], max_category: 2}
    - {role: data_steward, purposes: [data_quality], max_category: 4}
    - {role: support, purposes: [data_subject_request], max_category: 3, lookup: true, raw_identifiers: true}
`

func accountsNode(t *testing.T, dsn string) *node {
	dir := t.TempDir()
	reg, pol := filepath.Join(dir, "registry.yaml"), filepath.Join(dir, "policy.yaml")
	os.WriteFile(reg, []byte(accountsRegistry), 0o600)
	os.WriteFile(pol, []byte(accountsPolicy), 0o600)
	cfg := testConfig(t, dsn)
	cfg.Registry, cfg.Policy = reg, pol
	n := startNode(t, cfg)
	b := newBrowser(t, n.http.URL)
	for _, ev := range []string{
		`{"account_id":"acct-1","action":"login","message":"hello"}`,
		`{"account_id":"acct-1","action":"purchase","message":"my address is 1 Main St"}`,
		`{"account_id":"acct-2","action":"login"}`,
	} {
		if resp, body := b.post("/v1/collect/support_events", ev, nil); resp.StatusCode != 200 {
			t.Fatalf("collect: %d %v", resp.StatusCode, body)
		}
	}
	return n
}

func do(t *testing.T, method, url, tok, body string, hdr map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, raw := doRaw(t, method, url, tok, body, hdr)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

// doRaw is do with the body as it came (a CSV, a page, Markdown).
func doRaw(t *testing.T, method, url, tok, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func TestReadPolicyWithholdsAndRecords(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := accountsNode(t, dsn(t))
			base := n.http.URL + "/v1/datasets/support_events/events?" + dayRange
			analyst, steward, support := token(t, n, auth.Analyst), token(t, n, auth.DataSteward), token(t, n, auth.Support)

			// The analyst's rule stops at category 2, and analysts never
			// see a raw identifier: message and account_id are withheld.
			status, page, _ := do(t, "GET", base+"&purpose=customer_support", analyst, "", nil)
			if status != 200 {
				t.Fatalf("analyst: %d %v", status, page)
			}
			if got := page["withheld"]; !sameStrings(got, "account_id", "message") {
				t.Errorf("analyst withheld %v", got)
			}
			for _, e := range page["events"].([]any) {
				ev := e.(map[string]any)
				data := ev["data"].(map[string]any)
				if _, ok := data["account_id"]; ok {
					t.Errorf("analyst saw a raw identifier: %v", data)
				}
				if _, ok := data["message"]; ok {
					t.Errorf("analyst saw a category-3 field: %v", data)
				}
				if k, _ := ev["subject_key"].(string); len(k) != 64 {
					t.Errorf("analyst did not get the keyed subject key: %v", ev)
				}
			}
			// The steward sees category 4 but, without raw_identifiers,
			// still not the account id.
			_, page, _ = do(t, "GET", base, steward, "", map[string]string{"X-Steward-Purpose": "data_quality"})
			if got := page["withheld"]; !sameStrings(got, "account_id") {
				t.Errorf("steward withheld %v", got)
			}
			// A purpose outside the policy is refused, with the reason.
			status, prob, _ := do(t, "GET", base+"&purpose=marketing", analyst, "", nil)
			if status != 403 || !strings.Contains(prob["detail"].(string), "marketing") {
				t.Errorf("marketing read: %d %v", status, prob)
			}
			// Two different purposes are a mistake.
			if status, _, _ := do(t, "GET", base+"&purpose=customer_support", analyst, "", map[string]string{"X-Steward-Purpose": "data_quality"}); status != 400 {
				t.Errorf("two purposes: %d", status)
			}

			// Support looks one account up; the entry carries its key.
			lookup := n.http.URL + "/v1/datasets/support_events/lookup"
			body := `{"subject":"acct-1","from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z","purpose":"data_subject_request"}`
			status, page, _ = do(t, "POST", lookup, support, body, nil)
			if status != 200 || len(page["events"].([]any)) != 2 {
				t.Fatalf("support lookup: %d %v", status, page)
			}
			first := page["events"].([]any)[0].(map[string]any)
			if first["data"].(map[string]any)["account_id"] != "acct-1" {
				t.Errorf("support with raw_identifiers should see the account id: %v", first)
			}
			subjectKey := first["subject_key"].(string)
			// The analyst's rule has no lookup right.
			if status, prob, _ := do(t, "POST", lookup, analyst, strings.Replace(body, "data_subject_request", "customer_support", 1), nil); status != 403 || !strings.Contains(prob["detail"].(string), "look up") {
				t.Errorf("analyst lookup: %d %v", status, prob)
			}
			for _, bad := range []string{`{"subject":"acct-1"`, `{"subject":null,"from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z"}`, `{"subject":"acct-1","colour":"red"}`, `{"subject":{"a":1},"from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z"}`} {
				if status, prob, _ := do(t, "POST", lookup, support, bad, map[string]string{"X-Steward-Purpose": "data_subject_request"}); status != 400 || prob["detail"] == "" {
					t.Errorf("bad lookup %s: %d %v", bad, status, prob)
				}
			}

			// The auditor sees every read above, allowed and denied.
			auditor := token(t, n, auth.Auditor)
			status, log, _ := do(t, "GET", n.http.URL+"/v1/access-log?dataset=support_events", auditor, "", nil)
			if status != 200 {
				t.Fatalf("access log: %d %v", status, log)
			}
			var decisions []string
			for _, e := range log["entries"].([]any) {
				en := e.(map[string]any)
				decisions = append(decisions, en["role"].(string)+":"+en["decision"].(string))
				if strings.Contains(en["query"].(string), "acct-1") {
					t.Errorf("raw identifier in the access log: %v", en)
				}
			}
			if got := strings.Join(decisions, " "); got != "analyst:allowed data_steward:allowed analyst:denied support:allowed analyst:denied" {
				t.Errorf("access log decisions: %s", got)
			}
			// By subject: the identifier is hashed as collection hashed it.
			_, bySubject, _ := do(t, "GET", n.http.URL+"/v1/access-log?"+url.Values{"subject": {"acct-1"}, "dataset": {"support_events"}}.Encode(), auditor, "", nil)
			entries := bySubject["entries"].([]any)
			if len(entries) < 3 {
				t.Fatalf("entries touching acct-1: %v", bySubject)
			}
			for _, e := range entries {
				if !strings.Contains(strings.Join(toStrings(e.(map[string]any)["subject_keys"]), " "), subjectKey) {
					t.Errorf("entry without the subject: %v", e)
				}
			}
			// Reading the log is itself logged.
			_, own, _ := do(t, "GET", n.http.URL+"/v1/access-log?dataset=@access_log", auditor, "", nil)
			if len(own["entries"].([]any)) < 2 {
				t.Errorf("the auditor's reads are not in the log: %v", own)
			}
			// Bad filters are refused.
			for _, q := range []string{"from=yesterday", "limit=0", "cursor=!!!", "colour=red", "subject=a&subject_key=b", "from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z"} {
				if status, prob, _ := do(t, "GET", n.http.URL+"/v1/access-log?"+q, auditor, "", nil); status != 400 || prob["detail"] == "" {
					t.Errorf("access log ?%s: %d %v", q, status, prob)
				}
			}

			// The chain over everything above holds.
			res, err := accesslog.Verify(t.Context(), n.srv.Store, accesslog.Options{})
			if err != nil || res.Break != nil || res.Checked < 8 {
				t.Fatalf("verify: %+v %v", res, err)
			}
		})
	}
}

// TestStreamIsRecordedChunkByChunk: every part of a stream is in the log
// with its count before it is sent.
func TestStreamIsRecordedChunkByChunk(t *testing.T) {
	n := accountsNode(t, "")
	req, _ := http.NewRequest("GET", n.http.URL+"/v1/datasets/support_events/events?"+dayRange+"&purpose=data_quality", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, n, auth.DataSteward))
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Steward-Withheld") != "account_id" {
		t.Errorf("withheld header %q", resp.Header.Get("Steward-Withheld"))
	}
	entries, err := n.srv.Store.ListAccess(t.Context(), store.AccessQuery{Dataset: "support_events", Limit: 10})
	if err != nil || len(entries) != 1 {
		t.Fatalf("%v %v", entries, err)
	}
	if e := entries[0]; e.Records != 3 || e.Subjects != 2 || !strings.HasPrefix(e.Query, "stream ") || e.Decision != accesslog.Allowed || e.AuthMethod != "token" || e.ClientNet != "127.0.0.0" {
		t.Errorf("stream entry %+v", e)
	}
}

func sameStrings(v any, want ...string) bool {
	got := toStrings(v)
	return strings.Join(got, ",") == strings.Join(want, ",")
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}
