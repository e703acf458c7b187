package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// bundleGleanJS bundles testdata/gleanjs/entry.js with the Glean
// JavaScript SDK from npm (installed by .ci/run: npm ci in that folder).
func bundleGleanJS(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join("testdata", "gleanjs")
	esbuild := filepath.Join(dir, "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		// As for Chromium: CI must have it, a bare machine skips.
		if os.Getenv("CI") != "" {
			t.Fatal("the Glean JavaScript SDK is not installed: run npm ci in internal/server/testdata/gleanjs (.ci/run does)")
		}
		t.Skip("the Glean JavaScript SDK is not installed (npm ci in internal/server/testdata/gleanjs)")
	}
	out := filepath.Join(t.TempDir(), "glean.js")
	esbuild, _ = filepath.Abs(esbuild)
	cmd := exec.Command(esbuild, "entry.js", "--bundle", "--format=iife", "--log-level=warning", "--outfile="+out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGleanJSInChromium runs the real Glean JavaScript SDK in headless
// Chromium against steward, whose registry is the import of the same
// metrics.yaml and pings.yaml: what the SDK sends is stored as approved
// and minimised, the unreviewed metric is dropped, and turning upload off
// sends the deletion-request that erases the client.
func TestGleanJSInChromium(t *testing.T) {
	// Glean.js submits only over HTTPS; the test server's certificate is
	// its own.
	ctx := chromium(t, chromedp.Flag("ignore-certificate-errors", true))
	bundle := bundleGleanJS(t)
	var files []glean.File
	for _, n := range []string{"metrics.yaml", "pings.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "gleanjs", n))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, glean.File{Name: n, Data: b})
	}
	res, err := glean.Import(files, glean.Options{AppID: "steward-e2e", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	y, err := glean.Proposal(registry.DefaultYAML, res, "steward-e2e", testNow)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "")
	cfg.Registry = filepath.Join(t.TempDir(), "registry.yaml")
	os.WriteFile(cfg.Registry, y, 0o600)
	n := startNode(t, cfg)

	// The page and steward on one origin, as an application serving its
	// own telemetry endpoint would.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>app</title><script src="/app/glean.js"></script>`))
	})
	mux.HandleFunc("GET /app/glean.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(bundle)
	})
	var mu sync.Mutex
	var seen []string
	steward := n.srv.Handler()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/submit/") {
			mu.Lock()
			seen = append(seen, r.URL.Path)
			mu.Unlock()
		}
		steward.ServeHTTP(w, r)
	}))
	app := httptest.NewTLSServer(mux)
	t.Cleanup(app.Close)

	if err := chromedp.Do(ctx, chromedp.Navigate(app.URL+"/app/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`runGlean(`+quoteJS(app.URL)+`), true`)); err != nil {
		t.Fatal(err)
	}
	q := store.EventQuery{Dataset: "steward_e2e_custom_e2e", From: time.Unix(0, 0), To: time.Now().AddDate(1, 0, 0), Limit: 10}
	var evs []store.Event
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(evs) == 0; time.Sleep(200 * time.Millisecond) {
		evs, _ = n.srv.Store.ListEvents(context.Background(), q)
	}
	if len(evs) != 1 {
		t.Fatalf("the custom ping was not stored (%d events); submissions: %v", len(evs), seen)
	}
	var data map[string]any
	json.Unmarshal(evs[0].Data, &data)
	want := map[string]any{"toolbar__clicks": 3.0, "toolbar__theme": "dark", "toolbar__pinned": true,
		"toolbar__opened_at": "2026-11-22T12:34:00Z", "ping_reason": "done", "app_display_version": "1.2", "app_channel": "test"}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("%s = %v, want %v (stored %v)", k, data[k], v, data)
		}
	}
	if o, _ := data["toolbar__opened"].(map[string]any); o["menu"] != 2.0 {
		t.Errorf("labeled counter: %v", data["toolbar__opened"])
	}
	if p, _ := data["toolbar__picked"].([]any); len(p) != 1 || !strings.Contains(string(evs[0].Data), `"extra":{"source":"menu"}`) {
		t.Errorf("event: %v", data["toolbar__picked"])
	}
	if _, ok := data["toolbar__unreviewed"]; ok {
		t.Error("an unreviewed metric was stored")
	}
	id, _ := data["client_id"].(string)
	if len(id) != 64 || evs[0].SubjectKey != id {
		t.Errorf("client id not keyed: %v", data["client_id"])
	}
	// Glean.js on the web submits with navigator.sendBeacon (no custom
	// headers, no gzip); the gzip path is TestGleanSubmission's.
	if len(seen) == 0 || !strings.HasPrefix(seen[0], "/submit/steward-e2e/custom-e2e/1/") {
		t.Errorf("submissions: %v", seen)
	}

	// Upload off: Glean sends deletion-request; steward erases the client.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`stopGlean(), true`)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(evs) > 0; time.Sleep(200 * time.Millisecond) {
		evs, _ = n.srv.Store.ListEvents(context.Background(), q)
	}
	if len(evs) != 0 {
		t.Fatalf("the client's ping is still read after upload was turned off; submissions: %v", seen)
	}
	reqs, total, _ := n.srv.Store.ListRequests(context.Background(), store.RequestFilter{Channel: "glean", Limit: 5})
	if total != 1 || reqs[0].Type != "erasure" {
		t.Fatalf("no glean erasure request: %+v", reqs)
	}
}

func quoteJS(s string) string { b, _ := json.Marshal(s); return string(b) }
