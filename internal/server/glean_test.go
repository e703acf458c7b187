package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

const gleanTestMetrics = `$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0
browser:
  clicks: &d
    type: counter
    description: Toolbar clicks.
    data_sensitivity: [interaction]
    bugs: [https://bugs.example/1]
    data_reviews: [https://reviews.example/1]
    notification_emails: [team@example.org]
    expires: never
  opened:
    <<: *d
    type: labeled_counter
    labels: [menu, toolbar]
  loaded:
    <<: *d
    type: datetime
    time_unit: hour
  picked:
    <<: *d
    type: event
    extra_keys:
      source: {description: where}
`

// gleanNode starts steward with the built-in registry plus an import of
// gleanTestMetrics for app org.example.app, approved as a fixture.
func gleanNode(t *testing.T, dsn string) *node {
	t.Helper()
	res, err := glean.Import([]glean.File{{Name: "metrics.yaml", Data: []byte(gleanTestMetrics)}}, glean.Options{AppID: "org.example.app", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	y, err := glean.Proposal(registry.DefaultYAML, res, "org.example.app", testNow)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, dsn)
	cfg.Registry = filepath.Join(t.TempDir(), "registry.yaml")
	os.WriteFile(cfg.Registry, y, 0o600)
	return startNode(t, cfg)
}

const gleanPing = `{
  "ping_info": {"seq": 3, "start_time": "2026-11-22T10:17:03.123+01:00", "end_time": "2026-11-22T12:01:00.000+01:00", "reason": "today"},
  "client_info": {"client_id": "2B4E6A8C-1111-4222-8333-444455556666", "app_display_version": "120.1", "os": "Linux", "telemetry_sdk_build": "5.0.0", "first_run_date": "2026-01-05+01:00"},
  "metrics": {
    "counter": {"browser.clicks": 7, "browser.secret": 1},
    "labeled_counter": {"browser.opened": {"menu": 2, "toolbar": 1}},
    "datetime": {"browser.loaded": "2026-11-22T09-05:00"},
    "string": {"browser.clicks": "wrong type"}
  },
  "events": [{"timestamp": 0, "category": "browser", "name": "picked", "extra": {"source": "menu"}},
             {"timestamp": 12, "category": "browser", "name": "unknown"}]
}`

func submit(t *testing.T, base, path string, body []byte, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-Telemetry-Agent", "Glean/5.0.0 (JS on Linux)")
	req.Header.Set("Date", "Sun, 22 Nov 2026 12:34:00 GMT")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

const docID = "0f0e0d0c-0b0a-4908-8706-050403020100"

func TestGleanSubmission(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := gleanNode(t, dsn(t))
			path := "/submit/org-example-app/metrics/1/" + docID
			status, body := submit(t, n.http.URL, path, gz([]byte(gleanPing)), map[string]string{"Content-Encoding": "gzip", "X-Debug-ID": "test-tag"})
			if status != 200 || body["stored"] != true {
				t.Fatalf("submit: %d %v", status, body)
			}
			dropped, _ := body["dropped_metrics"].(map[string]any)
			if dropped["browser.secret"] != 1.0 || dropped["browser.clicks"] != 1.0 {
				t.Errorf("dropped metrics not counted by name: %v", body)
			}
			// The same document again is a duplicate, answered 200 (Glean retries).
			if status, body := submit(t, n.http.URL, path, []byte(gleanPing), nil); status != 200 || body["stored"] != false || body["reason"] != "duplicate" {
				t.Errorf("resubmit: %d %v", status, body)
			}
			evs, err := n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "org_example_app_metrics", From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 1), Limit: 10})
			if err != nil || len(evs) != 1 {
				t.Fatalf("stored: %v %v", evs, err)
			}
			var data map[string]any
			json.Unmarshal(evs[0].Data, &data)
			if data["browser__clicks"] != 7.0 || data["ping_start_time"] != "2026-11-22T09:00:00Z" || data["first_run_date"] != "2026-01-04T00:00:00Z" ||
				data["browser__loaded"] != "2026-11-22T14:00:00Z" || data["os"] != "Linux" || data["browser__secret"] != nil {
				t.Errorf("stored data: %v", data)
			}
			if id, _ := data["client_id"].(string); len(id) != 64 || evs[0].SubjectKey != id || evs[0].EventID != docID {
				t.Errorf("client id not keyed or doc id not the event id: %v %+v", data["client_id"], evs[0])
			}
			if strings.Contains(string(evs[0].Data), "2b4e6a8c") || strings.Contains(string(evs[0].Data), "2B4E6A8C") {
				t.Error("raw client id stored")
			}
			evsEvents, _ := n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "org_example_app_events", From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 1), Limit: 10})
			if len(evsEvents) != 0 {
				t.Errorf("events ping stored from a metrics ping: %v", evsEvents)
			}
			st, eb := submit(t, n.http.URL, "/submit/org-example-app/events/1/1f0e0d0c-0b0a-4908-8706-050403020100", []byte(gleanPing), nil)
			evsEvents, _ = n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "org_example_app_events", From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 1), Limit: 10})
			if st != 200 || len(evsEvents) != 1 || !strings.Contains(string(evsEvents[0].Data), `"browser__picked":[{"extra":{"source":"menu"},"timestamp":0}]`) {
				t.Errorf("events ping: %d %v %v", st, eb, evsEvents)
			}
		})
	}
}

func TestGleanBadSubmissions(t *testing.T) {
	n := gleanNode(t, "")
	bomb := gz(bytes.Repeat([]byte(" "), 12<<20))
	for _, c := range []struct {
		name, path string
		body       []byte
		hdr        map[string]string
		status     int
		typ        string
	}{
		{"doc id", "/submit/org-example-app/metrics/1/not-a-uuid", []byte(gleanPing), nil, 400, "glean-doc-id"},
		{"app id", "/submit/org%2F..%2Fx/metrics/1/" + docID, []byte(gleanPing), nil, 400, "glean-app-id"},
		{"ping", "/submit/org-example-app/Metrics_x/1/" + docID, []byte(gleanPing), nil, 400, "glean-ping"},
		{"schema version", "/submit/org-example-app/metrics/one/" + docID, []byte(gleanPing), nil, 400, "glean-schema-version"},
		{"unknown ping", "/submit/org-example-app/baseline/1/" + docID, []byte(gleanPing), nil, 404, "unknown-ping"},
		{"not an object", "/submit/org-example-app/metrics/1/" + docID, []byte(`[1,2]`), nil, 400, "malformed"},
		{"not json", "/submit/org-example-app/metrics/1/" + docID, []byte(`{"ping_info": `), nil, 400, "malformed"},
		{"bad gzip", "/submit/org-example-app/metrics/1/" + docID, []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"}, 400, "glean-body"},
		{"gzip bomb", "/submit/org-example-app/metrics/1/" + docID, bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "glean-body"},
		{"encoding", "/submit/org-example-app/metrics/1/" + docID, []byte(gleanPing), map[string]string{"Content-Encoding": "br"}, 415, "glean-body"},
	} {
		status, body := submit(t, n.http.URL, c.path, c.body, c.hdr)
		if status != c.status || !strings.HasSuffix(body["type"].(string), c.typ) {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, body, c.status, c.typ)
		}
	}
	evs, _ := n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "org_example_app_metrics", From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 1), Limit: 10})
	if len(evs) != 0 {
		t.Errorf("bad input stored %d events", len(evs))
	}
	// Opted out (Global Privacy Control): 200, deliberately not stored.
	if status, body := submit(t, n.http.URL, "/submit/org-example-app/metrics/1/"+docID, []byte(gleanPing), map[string]string{"Sec-GPC": "1"}); status != 200 || body["stored"] != false {
		t.Errorf("GPC: %d %v", status, body)
	}
}

// TestGleanDeletionRequest: the deletion-request ping erases the client
// across every dataset without an e-mail, and its later pings are dropped.
func TestGleanDeletionRequest(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := gleanNode(t, dsn(t))
			ctx := context.Background()
			if st, b := submit(t, n.http.URL, "/submit/org-example-app/metrics/1/"+docID, []byte(gleanPing), nil); st != 200 || b["stored"] != true {
				t.Fatalf("metrics ping: %d %v", st, b)
			}
			q := store.EventQuery{Dataset: "org_example_app_metrics", From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 1), Limit: 10}
			if evs, _ := n.srv.Store.ListEvents(ctx, q); len(evs) != 1 {
				t.Fatalf("before: %d events", len(evs))
			}
			del := `{"ping_info": {"seq": 0, "start_time": "2026-11-22T12:00+00:00", "end_time": "2026-11-22T12:01+00:00", "reason": "set_upload_enabled"},
			  "client_info": {"client_id": "2b4e6a8c-1111-4222-8333-444455556666", "os": "Linux"}}`
			if st, b := submit(t, n.http.URL, "/submit/org-example-app/deletion-request/1/a0e0d0c0-0b0a-4908-8706-050403020100", gz([]byte(del)), map[string]string{"Content-Encoding": "gzip"}); st != 200 || b["stored"] != true {
				t.Fatalf("deletion-request: %d %v", st, b)
			}
			if evs, _ := n.srv.Store.ListEvents(ctx, q); len(evs) != 0 {
				t.Errorf("the client's events are still read after its deletion request: %d", len(evs))
			}
			if st, b := submit(t, n.http.URL, "/submit/org-example-app/metrics/1/b0e0d0c0-0b0a-4908-8706-050403020100", []byte(gleanPing), nil); st != 200 || b["stored"] != false || b["reason"] != "erased" {
				t.Errorf("a ping after the deletion request: %d %v", st, b)
			}
			reqs, total, err := n.srv.Store.ListRequests(ctx, store.RequestFilter{Channel: "glean", Limit: 10})
			if err != nil || total != 1 || reqs[0].Type != "erasure" || reqs[0].Status != "in_progress" || reqs[0].Email != "" {
				t.Fatalf("requests: %+v %d %v", reqs, total, err)
			}
			hist, _ := n.srv.Store.RequestHistory(ctx, reqs[0].ID)
			var notes []string
			for _, h := range hist {
				notes = append(notes, h.Note)
			}
			if !strings.Contains(strings.Join(notes, "\n"), "the client id is the credential") || !strings.Contains(strings.Join(notes, "\n"), "no e-mail confirmation") {
				t.Errorf("history: %v", notes)
			}
			// Again: the open request is found, nothing new.
			if st, _ := submit(t, n.http.URL, "/submit/org-example-app/deletion-request/1/c0e0d0c0-0b0a-4908-8706-050403020100", []byte(del), nil); st != 200 {
				t.Errorf("second deletion-request: %d", st)
			}
			if _, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Channel: "glean", Limit: 10}); total != 1 {
				t.Errorf("%d requests after a second ping", total)
			}
			for _, c := range []struct {
				path, body string
				status     int
			}{
				{"/submit/org-example-app/deletion-request/1/" + docID, `{"client_info": {"client_id": "nope"}}`, 400},
				{"/submit/other-app/deletion-request/1/" + docID, del, 404},
			} {
				if st, b := submit(t, n.http.URL, c.path, []byte(c.body), nil); st != c.status {
					t.Errorf("%s: %d %v", c.path, st, b)
				}
			}
		})
	}
}
