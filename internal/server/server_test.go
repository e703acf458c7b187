package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
)

// sampleEvent is seed 001's example interaction, as a browser sends it.
const sampleEvent = `{
  "timestamp": 1333046100000,
  "event_stream": [["picker", 732], ["picker::change", 1700], ["picker::signin", 2300]],
  "email_type": "secondary",
  "number_emails": 3,
  "new_account": false,
  "language": "en_US",
  "number_sites_logged_in": 1,
  "screen_size": {"width": 640, "height": 480},
  "sample_rate": 1.0,
  "client_id": "7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90"
}`

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"

var testNow = time.Date(2026, 11, 22, 12, 34, 56, 0, time.UTC)

// testConfig returns a config for a test node: SQLite in a temp dir, or the
// PostgreSQL schema given.
func testConfig(t testing.TB, dsn string) *config.Config {
	t.Helper()
	fs := flagSetForTest()
	cfg := config.FlagSet(fs)
	cfg.DataDir = t.TempDir()
	cfg.DB = dsn
	cfg.RatePerSecond = 0
	cfg.RequestsPerHour = 0
	cfg.SecretFile = keyFile(t, strings.Repeat("ab", 32))
	// Test registries are fixtures, approved as given; review_test covers
	// a start-up file without the override.
	cfg.ApproveRegistry = "test fixture"
	return cfg
}

// keyFile writes a hashing key file the way an operator would for
// --secret-file: private to its owner.
func keyFile(t testing.TB, hexKey string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hashing.key")
	if err := os.WriteFile(path, []byte(hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type node struct {
	srv   *Server
	http  *httptest.Server
	clock *clock.Fake
	logs  *lockedWriter
}

func startNode(t testing.TB, cfg *config.Config) *node {
	t.Helper()
	fake := clock.NewFake(testNow)
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := New(context.Background(), cfg, Options{Clock: fake, Logger: log, Argon2: testArgon2})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &node{srv: srv, http: hs, clock: fake, logs: logs}
}

// browser is an HTTP client with a cookie jar, like a browser tab.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var tok struct{ Token string }
	b.getJSON("/v1/csrf", &tok)
	if tok.Token == "" {
		t.Fatal("no csrf token")
	}
	b.csrf = tok.Token
	return b
}

func (b *browser) getJSON(path string, out any) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
}

func (b *browser) post(path, body string, hdr map[string]string) (*http.Response, map[string]any) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("User-Agent", firefoxUA)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

func token(t *testing.T, n *node, role auth.Role) string {
	t.Helper()
	secret, _, err := auth.NewToken(context.Background(), n.srv.Store, "test "+string(role), role, 0, n.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func readEvents(t *testing.T, base, tok, dataset, query string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/datasets/"+dataset+"/events?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

const dayRange = "from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z"

// Purposes the built-in policy grants: analysts read interaction_data for
// product improvement, data stewards also for data quality.
const (
	asAnalyst = "&purpose=product_improvement"
	asSteward = "&purpose=data_quality"
)

func backendsUnderTest(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgSchema(t) },
	}
}

func TestCollectAndReadBack(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			b := newBrowser(t, n.http.URL)
			resp, body := b.post("/wsapi/interaction_data", sampleEvent, map[string]string{"X-Forwarded-For": "203.0.113.77"})
			if resp.StatusCode != 200 || body["accepted"] != 1.0 {
				t.Fatalf("collect: %d %v", resp.StatusCode, body)
			}
			tok := token(t, n, auth.Analyst)
			status, page := readEvents(t, n.http.URL, tok, "interaction_data", dayRange+asAnalyst)
			if status != 200 {
				t.Fatalf("read: %d %v", status, page)
			}
			events := page["events"].([]any)
			if len(events) != 1 {
				t.Fatalf("want 1 event, got %v", page)
			}
			ev := events[0].(map[string]any)
			data := ev["data"].(map[string]any)
			// Minimised before the first write.
			if data["timestamp"] != "2012-03-29T18:30:00Z" {
				t.Errorf("timestamp not rounded to 10 minutes: %v", data["timestamp"])
			}
			if data["client_ip"] != "127.0.0.0" {
				t.Errorf("client ip not truncated to /24: %v", data["client_ip"])
			}
			ua, _ := data["user_agent"].(map[string]any)
			if ua["browser"] != "Firefox" || ua["version"] != "121" || ua["os"] != "Linux" {
				t.Errorf("user agent not coarse: %v", data["user_agent"])
			}
			if id, _ := data["client_id"].(string); len(id) != 64 || strings.Contains(id, "7f1d5a3e") {
				t.Errorf("client_id not keyed-hashed: %v", data["client_id"])
			}
			if ev["subject_key"] == "" || ev["received_at"] != "2026-11-22T12:30:00Z" {
				t.Errorf("subject key or rounded receive time missing: %v", ev)
			}
			// The raw values never reach the request log either.
			if strings.Contains(n.logs.String(), "Firefox/121.0") || strings.Contains(n.logs.String(), "203.0.113.77") ||
				strings.Contains(n.logs.String(), tok) {
				t.Errorf("raw user agent, address or token in the log:\n%s", n.logs.String())
			}
		})
	}
}

// TestRawValuesNeverOnDisk scans the SQLite files byte by byte for the raw
// user agent, client identifier and address.
func TestRawValuesNeverOnDisk(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.TrustedProxies = "127.0.0.0/8"
	n := startNode(t, cfg)
	b := newBrowser(t, n.http.URL)
	for i := 0; i < 20; i++ {
		resp, body := b.post("/v1/collect/interaction_data", sampleEvent, map[string]string{"X-Forwarded-For": "198.51.100.213"})
		if resp.StatusCode != 200 {
			t.Fatalf("collect: %d %v", resp.StatusCode, body)
		}
	}
	n.http.Close()
	n.srv.Close()
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, secret := range []string{"Firefox/121.0", "7f1d5a3e-0c1b", "198.51.100.213"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds the raw value %q", filepath.Base(f), secret)
			}
		}
	}
}

func TestBadCollectInput(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	b := newBrowser(t, n.http.URL)
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	huge := `{"event_stream":[` + strings.Repeat(`["x",1],`, 5000) + `["x",1]]}`
	var batch101 strings.Builder
	batch101.WriteString(`{"events":[`)
	for i := 0; i < 101; i++ {
		if i > 0 {
			batch101.WriteString(",")
		}
		batch101.WriteString(`{"language":"en"}`)
	}
	batch101.WriteString("]}")
	cases := []struct {
		name, path, body string
		hdr              map[string]string
		status           int
		problem          string
	}{
		{"malformed json", "/v1/collect/interaction_data", `{"language":`, nil, 400, "malformed"},
		{"trailing garbage", "/v1/collect/interaction_data", `{"language":"en"} x`, nil, 400, "malformed"},
		{"invalid utf-8", "/v1/collect/interaction_data", "{\"language\":\"\xff\xfe\"}", nil, 400, "malformed"},
		{"wrong type", "/v1/collect/interaction_data", `{"number_emails":"three"}`, nil, 400, "invalid"},
		{"out of range", "/v1/collect/interaction_data", `{"number_emails":100000}`, nil, 400, "invalid"},
		{"over-long string", "/v1/collect/interaction_data", `{"language":"` + strings.Repeat("x", 100) + `"}`, nil, 400, "invalid"},
		{"deep nesting", "/v1/collect/interaction_data", deep, nil, 400, "malformed"},
		{"huge array", "/v1/collect/interaction_data", huge, nil, 400, "invalid"},
		{"too many events", "/v1/collect/interaction_data", batch101.String(), nil, 400, "malformed"},
		{"unknown dataset", "/v1/collect/nope", `{}`, nil, 404, "unknown-dataset"},
		{"unknown field", "/v1/collect/interaction_data", `{"email":"a@b.example"}`, nil, 400, "invalid"},
		{"duplicate keys", "/v1/collect/interaction_data", `{"language":"en","language":"de"}`, nil, 400, "malformed"},
		{"empty body", "/v1/collect/interaction_data", ``, nil, 400, "malformed"},
		{"wrong content type", "/v1/collect/interaction_data", `{}`, map[string]string{"Content-Type": "text/plain"}, 415, "content-type"},
		{"missing csrf", "/v1/collect/interaction_data", `{}`, map[string]string{"X-CSRF-Token": ""}, 403, "csrf"},
		{"wrong csrf", "/v1/collect/interaction_data", `{}`, map[string]string{"X-CSRF-Token": "forged.token"}, 403, "csrf"},
		{"server dataset without key", "/v1/collect/request_log", `{}`, nil, 401, "write-key"},
		{"server dataset wrong key", "/v1/collect/request_log", `{}`, map[string]string{"Authorization": "Bearer nope"}, 401, "write-key"},
		{"client sends a server field", "/v1/collect/interaction_data", `{"client_ip":"1.2.3.4"}`, nil, 400, "invalid"},
		{"too large", "/v1/collect/interaction_data", `{"language":"` + strings.Repeat("x", 300<<10) + `"}`, nil, 413, "too-large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.post(c.path, c.body, c.hdr)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, c.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if body["type"] != "urn:steward:problem:"+c.problem || body["detail"] == "" {
				t.Errorf("problem %v, want type %s with a detail", body, c.problem)
			}
		})
	}
	tok := token(t, n, auth.DataSteward)
	if _, page := readEvents(t, n.http.URL, tok, "interaction_data", dayRange+asSteward); len(page["events"].([]any)) != 0 {
		t.Fatalf("bad input stored something: %v", page)
	}
}

func TestExpiredDataset(t *testing.T) {
	cfg := testConfig(t, "")
	n := startNode(t, cfg)
	n.clock.Set(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	b := newBrowser(t, n.http.URL)
	resp, body := b.post("/v1/collect/interaction_data", sampleEvent, nil)
	if resp.StatusCode != 410 || body["type"] != "urn:steward:problem:expired-dataset" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
}

func TestConsentIsHonoured(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	b := newBrowser(t, n.http.URL)
	for _, c := range []struct {
		name, reason string
		hdr          map[string]string
	}{
		{"do not track", "dnt", map[string]string{"DNT": "1"}},
		{"global privacy control", "gpc", map[string]string{"Sec-GPC": "1"}},
	} {
		resp, body := b.post("/v1/collect/interaction_data", sampleEvent, c.hdr)
		if resp.StatusCode != 200 || resp.Header.Get("Steward-Not-Stored") != c.reason || body["accepted"] != 0.0 || body["dropped"] != 1.0 ||
			body["dropped_reasons"].(map[string]any)[c.reason] != 1.0 {
			t.Fatalf("%s: %d %q %v", c.name, resp.StatusCode, resp.Header.Get("Steward-Not-Stored"), body)
		}
		// A batch: every event is counted, in dropped as in its reason.
		resp, body = b.post("/v1/collect/interaction_data", `{"events":[`+sampleEvent+`,`+sampleEvent+`,`+sampleEvent+`]}`, c.hdr)
		if resp.StatusCode != 200 || body["dropped"] != 3.0 || body["dropped_reasons"].(map[string]any)[c.reason] != 3.0 {
			t.Fatalf("%s, a batch of 3: %d %v", c.name, resp.StatusCode, body)
		}
	}
	// Opt out through the endpoint; the cookie then stops collection.
	resp, _ := b.post("/v1/opt-out", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("opt-out: %d", resp.StatusCode)
	}
	var st map[string]bool
	b.getJSON("/v1/opt-out", &st)
	if !st["opted_out"] {
		t.Fatalf("opt-out not reported: %v", st)
	}
	resp, body := b.post("/v1/collect/interaction_data", sampleEvent, nil)
	if resp.Header.Get("Steward-Not-Stored") != "opt-out" || body["dropped"] != 1.0 || body["dropped_reasons"].(map[string]any)["opt-out"] != 1.0 {
		t.Fatalf("opted-out event stored: %v", body)
	}
	// Opting back in needs the CSRF token.
	req, _ := http.NewRequest("DELETE", n.http.URL+"/v1/opt-out", nil)
	if r, _ := b.c.Do(req); r.StatusCode != 403 {
		t.Fatalf("opt back in without token: %d", r.StatusCode)
	}
	req.Header.Set("X-CSRF-Token", b.csrf)
	if r, _ := b.c.Do(req); r.StatusCode != 200 {
		t.Fatalf("opt back in: %d", r.StatusCode)
	}
	resp, body = b.post("/v1/collect/interaction_data", sampleEvent, nil)
	if resp.StatusCode != 200 || body["accepted"] != 1.0 {
		t.Fatalf("after opting in: %d %v", resp.StatusCode, body)
	}
	tok := token(t, n, auth.DataSteward)
	if _, page := readEvents(t, n.http.URL, tok, "interaction_data", dayRange+asSteward); len(page["events"].([]any)) != 1 {
		t.Fatalf("want exactly the one consented event: %v", page)
	}
}

func TestIdempotentRetries(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	b := newBrowser(t, n.http.URL)
	ev := `{"event_id":"0b7e2c1e-6a43-4c55-8a0e-1e2f3a4b5c6d","language":"en"}`
	for i := 0; i < 3; i++ {
		resp, body := b.post("/v1/collect/interaction_data", ev, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		if want := map[bool]float64{true: 1, false: 0}[i == 0]; body["accepted"] != want {
			t.Fatalf("attempt %d accepted %v", i, body)
		}
	}
	tok := token(t, n, auth.DataSteward)
	if _, page := readEvents(t, n.http.URL, tok, "interaction_data", dayRange+asSteward); len(page["events"].([]any)) != 1 {
		t.Fatalf("retries stored twice: %v", page)
	}
}

func TestServerToServerWriteKey(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	req, _ := http.NewRequest("POST", n.http.URL+"/v1/collect/request_log", strings.NewReader(`{"tool_id":"ndt"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer example-write-key-change-me")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestReadAPIPagingAndBadInput(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	b := newBrowser(t, n.http.URL)
	var batch strings.Builder
	batch.WriteString(`{"events":[`)
	for i := 0; i < 95; i++ {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"number_emails":%d}`, i)
	}
	batch.WriteString("]}")
	for i := 0; i < 3; i++ {
		if resp, body := b.post("/v1/collect/interaction_data", batch.String(), nil); resp.StatusCode != 200 || body["accepted"] != 95.0 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	}
	tok := token(t, n, auth.Analyst)
	seen := map[float64]bool{}
	q := dayRange + asAnalyst + "&limit=40"
	pages := 0
	for {
		status, page := readEvents(t, n.http.URL, tok, "interaction_data", q)
		if status != 200 {
			t.Fatalf("%d %v", status, page)
		}
		pages++
		for _, e := range page["events"].([]any) {
			seq := e.(map[string]any)["seq"].(float64)
			if seen[seq] {
				t.Fatalf("duplicate seq %v", seq)
			}
			seen[seq] = true
		}
		cur, _ := page["next_cursor"].(string)
		if cur == "" {
			break
		}
		q = "cursor=" + cur + asAnalyst + "&limit=40"
	}
	if len(seen) != 285 || pages != 8 {
		t.Fatalf("paged %d events in %d pages", len(seen), pages)
	}

	// NDJSON stream of the whole range.
	req, _ := http.NewRequest("GET", n.http.URL+"/v1/datasets/interaction_data/events?"+dayRange, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/x-ndjson")
	req.Header.Set("X-Steward-Purpose", "product_improvement")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if lines := bytes.Count(raw, []byte("\n")); resp.Header.Get("Content-Type") != "application/x-ndjson" || lines != 285 {
		t.Fatalf("stream: %s, %d lines", resp.Header.Get("Content-Type"), lines)
	}

	for _, c := range []struct {
		name, tok, query string
		status           int
	}{
		{"no token", "", dayRange + asAnalyst, 401},
		{"bad token", "stw_nope", dayRange + asAnalyst, 401},
		{"role outside policy", token(t, n, auth.Support), dayRange + asAnalyst, 403},
		{"purpose outside policy", tok, dayRange + "&purpose=marketing", 403},
		{"no purpose", tok, dayRange, 400},
		{"malformed purpose", tok, dayRange + "&purpose=Robert%27);DROP", 400},
		{"bad cursor", tok, "cursor=!!!" + asAnalyst, 400},
		{"cursor of another range", tok, "cursor=eyJkIjoiaW50ZXJhY3Rpb25fZGF0YSIsImYiOjAsInQiOjEsInMiOjF9&from=2026-11-22T00:00:00Z" + asAnalyst, 400},
		{"from after to", tok, "from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z" + asAnalyst, 400},
		{"bad date", tok, "from=yesterday&to=2026-11-22T00:00:00Z" + asAnalyst, 400},
		{"missing range", tok, asAnalyst[1:], 400},
		{"bad limit", tok, dayRange + asAnalyst + "&limit=0", 400},
	} {
		req, _ := http.NewRequest("GET", n.http.URL+"/v1/datasets/interaction_data/events?"+c.query, nil)
		if c.tok != "" {
			req.Header.Set("Authorization", "Bearer "+c.tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != c.status || p["detail"] == "" {
			t.Errorf("%s: %d %v, want %d with a detail", c.name, resp.StatusCode, p, c.status)
		}
	}
}

func TestRetentionSweep(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	b := newBrowser(t, n.http.URL)
	if resp, _ := b.post("/v1/collect/interaction_data", sampleEvent, nil); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	n.clock.Advance(121 * 24 * time.Hour)
	sweeps := n.srv.Sweeper.SweepOnce(context.Background())
	deleted := map[string]int64{}
	for _, s := range sweeps {
		deleted[s.Dataset] = s.Deleted
	}
	if deleted["interaction_data"] != 1 {
		t.Fatalf("sweep deleted %v", deleted)
	}
	tok := token(t, n, auth.Admin)
	req, _ := http.NewRequest("GET", n.http.URL+"/v1/retention/sweeps?dataset=interaction_data", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Sweeps []struct {
			Dataset string
			Deleted int64
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if len(out.Sweeps) != 1 || out.Sweeps[0].Deleted != 1 {
		t.Fatalf("sweeps endpoint: %+v", out)
	}
}

func TestOpsEndpoints(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "steward_collect"} {
		resp, err := http.Get(n.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %.200s", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(n.http.URL + "/sdk/steward.js")
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("sdk: %v %v", err, resp)
	}
	resp.Body.Close()
}

// pgSchema makes an empty schema for one test and returns a DSN using it.
// It skips the test when STEWARD_TEST_POSTGRES is not set.
func pgSchema(t testing.TB) string { return pgtest.Schema(t) }

func TestTwoNodesShareOnePostgres(t *testing.T) {
	dsn := pgSchema(t)
	a := startNode(t, testConfig(t, dsn))
	b := startNode(t, testConfig(t, dsn))
	done := make(chan error, 2)
	for _, n := range []*node{a, b} {
		go func(n *node) {
			br := newBrowser(t, n.http.URL)
			for i := 0; i < 50; i++ {
				resp, body := br.post("/v1/collect/interaction_data", fmt.Sprintf(`{"event_id":"%s","number_emails":%d}`, uuid.NewString(), i), nil)
				if resp.StatusCode != 200 || body["accepted"] != 1.0 {
					done <- fmt.Errorf("%d %v", resp.StatusCode, body)
					return
				}
			}
			done <- nil
		}(n)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, a, auth.DataSteward)
	_, page := readEvents(t, b.http.URL, tok, "interaction_data", dayRange+asSteward+"&limit=1000")
	if got := len(page["events"].([]any)); got != 100 {
		t.Fatalf("node b reads %d events, want 100 from both nodes", got)
	}
	// A node with another hashing key must refuse to start on this database.
	other := testConfig(t, dsn)
	other.SecretFile = keyFile(t, strings.Repeat("cd", 32))
	if _, err := New(context.Background(), other, Options{Clock: clock.NewFake(testNow), Logger: slog.New(slog.DiscardHandler)}); err == nil ||
		!strings.Contains(err.Error(), "hashing key") {
		t.Fatalf("mismatched key accepted: %v", err)
	}
}
