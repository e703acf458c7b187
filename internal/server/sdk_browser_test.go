package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

const testPage = `<!doctype html><html><head><meta charset="utf-8"><title>sdk</title>
<script src="/sdk/steward.js"></script></head><body>steward sdk test</body></html>`

// chromium starts headless Chromium, or skips the test when none is
// installed outside CI (in CI a missing browser is a failure).
func chromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := os.Getenv("STEWARD_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs Debian's package")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	// The first call starts the browser and must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	return tctx
}

// TestSDKRetriesAcrossOutage proves the browser SDK against a real steward
// in real Chromium: events sent while the server is down wait in
// localStorage, and after a restart each arrives exactly once.
func TestSDKRetriesAcrossOutage(t *testing.T) {
	ctx := chromium(t)
	n := startNode(t, testConfig(t, ""))
	mux := http.NewServeMux()
	mux.Handle("/", n.srv.Handler())
	mux.HandleFunc("GET /test-page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	serve := func(l net.Listener) *http.Server {
		hs := &http.Server{Handler: mux}
		go hs.Serve(l)
		return hs
	}
	hs := serve(l)
	page := "http://" + addr + "/test-page"

	send := func() {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`steward.send("interaction_data", {language: "en"}).then(() => 1)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
	}
	queued := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`JSON.parse(localStorage.getItem("steward.queue.v1") || "[]").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	send()
	if q := queued(); q != 0 {
		t.Fatalf("delivered event still queued: %d", q)
	}

	// Outage: the next two events must wait in localStorage.
	hs.Close()
	send()
	send()
	if q := queued(); q != 2 {
		t.Fatalf("queued during outage: %d, want 2", q)
	}

	// Restart on the same address; the next page load flushes the queue.
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hs2 := serve(l2)
	defer hs2.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); queued() != 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if q := queued(); q != 0 {
		t.Fatalf("queue not flushed after restart: %d left", q)
	}
	evs, err := n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "interaction_data", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range evs {
		if e.EventID == "" || ids[e.EventID] {
			t.Fatalf("event without id or twice: %+v", e)
		}
		ids[e.EventID] = true
	}
	if len(evs) != 3 {
		t.Fatalf("stored %d events, want exactly 3", len(evs))
	}
}

// TestSDKNoticeURL: the SDK names the notice and a dataset's disclaimer,
// and the disclaimer it names is there.
func TestSDKNoticeURL(t *testing.T) {
	ctx := chromium(t)
	n := startNode(t, testConfig(t, ""))
	mux := http.NewServeMux()
	mux.Handle("/", n.srv.Handler())
	mux.HandleFunc("GET /test-page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/test-page")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[steward.noticeURL(), steward.noticeURL("interaction_data"), steward.disclaimerURL("interaction_data", "html")]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{hs.URL + "/privacy", hs.URL + "/privacy#interaction_data", hs.URL + "/privacy/disclaimers/interaction_data.html"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("SDK URLs %v, want %v", got, want)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(steward.disclaimerURL("interaction_data")).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(text, "Example Ltd collects data for improving the product") {
		t.Fatalf("the disclaimer the SDK names: %v %q", err, text)
	}
}

// TestSDKFromAnotherOrigin: a page on one origin loads the SDK from
// steward on another and sends an event; the dataset lists the page's
// origin in access.origins, so the post goes without a CSRF token and the
// preflight lets it through. A page whose origin is not listed stores
// nothing: the preflight fails, which a browser reports to the page as it
// reports a network failure, so the event stays queued.
func TestSDKFromAnotherOrigin(t *testing.T) {
	ctx := chromium(t)
	pages := http.NewServeMux()
	site := httptest.NewServer(pages)
	defer site.Close()
	other := httptest.NewServer(pages)
	defer other.Close()

	reg := strings.Replace(string(registry.DefaultYAML), "    path_alias: /wsapi/interaction_data\n",
		"    path_alias: /wsapi/interaction_data\n    access: {origins: ["+site.URL+"]}\n", 1)
	file := filepath.Join(t.TempDir(), "registry.yaml")
	if err := os.WriteFile(file, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "")
	cfg.Registry = file
	n := startNode(t, cfg)
	pages.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script src="%s/sdk/steward.js"></script><script>steward.configure({endpoint: %q})</script></head><body>another site</body></html>`, n.http.URL, n.http.URL)
	})
	sendFrom := func(origin string) int {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(origin+"/page")); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`steward.send("interaction_data", {language: "en"}).then(() => 1)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		left, err := chromedp.Run(ctx, chromedp.Evaluate[int](`JSON.parse(localStorage.getItem("steward.queue.v1") || "[]").length`))
		if err != nil {
			t.Fatal(err)
		}
		return left
	}
	stored := func() int {
		evs, err := n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "interaction_data", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	if left := sendFrom(site.URL); left != 0 || stored() != 1 {
		t.Fatalf("from the listed origin: %d queued, %d stored", left, stored())
	}
	if left := sendFrom(other.URL); left != 1 || stored() != 1 {
		t.Fatalf("from an origin not listed: %d queued, %d stored", left, stored())
	}
}
