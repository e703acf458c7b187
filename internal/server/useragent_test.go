package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
)

// Seed 001's client reports its own coarse user agent, {os, browser,
// version}. steward takes it when the request's User-Agent header says
// nothing it recognises, and keeps the header's coarse value when it does;
// either way only the coarse form is stored.
func TestClientReportedUserAgent(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	b := newBrowser(t, n.http.URL)
	post := func(id, ua, header string) (int, string) {
		t.Helper()
		body := strings.Replace(sampleEvent, `"sample_rate": 1.0`, `"sample_rate": 1.0, "event_id": "`+id+`", "user_agent": `+ua, 1)
		req, _ := http.NewRequest("POST", n.http.URL+"/wsapi/interaction_data", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", b.csrf)
		req.Header["User-Agent"] = []string{header} // "" sends none at all
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	const seedUA = `{"os": "iOS", "browser": "Safari", "version": 5.1}`
	if st, body := post("11111111-1111-4111-8111-111111111111", seedUA, ""); st != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Fatalf("seed 001's payload without a User-Agent header: %d %s", st, body)
	}
	if st, body := post("22222222-2222-4222-8222-222222222222", seedUA, firefoxUA); st != 200 {
		t.Fatalf("with a header too: %d %s", st, body)
	}
	if st, body := post("33333333-3333-4333-8333-333333333333", `{"os": "iOS", "browser": "Mobile Safari", "version": "17.2.1"}`, "Java/17"); st != 200 {
		t.Fatalf("an unrecognised header: %d %s", st, body)
	}
	for _, c := range []struct{ ua, want string }{
		{`"Mozilla/5.0 (iPhone)"`, "user_agent: must be an object {os, browser, version}"},
		{`{"os": "iOS", "browser": "Safari"}`, "user_agent.version: must be a version string or number"},
		{`{"os": "", "browser": "Safari", "version": "5"}`, "user_agent.os: must be a family name only"},
		{`{"os": "iOS 17.2 (iPhone15,3)", "browser": "Safari", "version": "5"}`, "user_agent.os: must be a family name only"},
		{`{"os": "iOS", "browser": "Safari", "version": "5", "device": "iPhone15,3"}`, "user_agent.device: unknown field"},
		{`{"os": "iOS", "browser": ["Safari"], "version": "5"}`, "user_agent.browser: must be a family name only"},
	} {
		st, body := post("44444444-4444-4444-8444-444444444444", c.ua, "")
		if st != 400 || !strings.Contains(body, "urn:steward:problem:invalid") || !strings.Contains(body, c.want) {
			t.Errorf("user_agent %s: %d %s, want 400 saying %q", c.ua, st, body, c.want)
		}
	}
	status, page := readEvents(t, n.http.URL, token(t, n, auth.Analyst), "interaction_data", dayRange+asAnalyst)
	if status != 200 {
		t.Fatalf("read: %d %v", status, page)
	}
	got := map[string]any{}
	for _, e := range page["events"].([]any) {
		ev := e.(map[string]any)
		got[ev["event_id"].(string)] = ev["data"].(map[string]any)["user_agent"]
	}
	for id, want := range map[string]map[string]any{
		"11111111-1111-4111-8111-111111111111": {"browser": "Safari", "version": "5", "os": "iOS"},
		"22222222-2222-4222-8222-222222222222": {"browser": "Firefox", "version": "121", "os": "Linux"},
		// Only the major version is kept of what the client says.
		"33333333-3333-4333-8333-333333333333": {"browser": "Mobile Safari", "version": "17", "os": "iOS"},
	} {
		ua, _ := got[id].(map[string]any)
		if len(ua) != 3 || ua["browser"] != want["browser"] || ua["version"] != want["version"] || ua["os"] != want["os"] {
			t.Errorf("%s: stored %v, want %v", id, got[id], want)
		}
	}
	if len(got) != 3 {
		t.Errorf("stored %d events, want 3: %v", len(got), got)
	}
}
