package ui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
)

var testPages = fstest.MapFS{
	"t/hello.html":  {Data: []byte(`{{define "content"}}<p id="c">Hello {{.Name}}, {{date .At}}.</p>{{end}}`)},
	"t/broken.html": {Data: []byte(`{{define "content"}}{{.Missing}}{{end}}`)},
}

func TestRenderInsideTheLayout(t *testing.T) {
	ts := MustParse(testPages, "t/*.html")
	rec := httptest.NewRecorder()
	err := ts.Render(rec, httptest.NewRequest("GET", "/x", nil), http.StatusCreated, "hello", Page{
		Title: "Greeting", Notice: "Saved.", Site: "Example Ltd",
		Data: struct {
			Name string
			At   time.Time
		}{"<Ann>", time.Date(2026, 11, 22, 9, 5, 0, 0, time.FixedZone("CET", 3600))},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if rec.Code != http.StatusCreated || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status/headers: %d %v", rec.Code, rec.Header())
	}
	for _, want := range []string{
		"<title>Greeting · Example Ltd</title>", `<link rel="stylesheet" href="/static/steward.css">`,
		"<h1>Greeting</h1>", `<p class="notice" role="status">Saved.</p>`,
		`<p id="c">Hello &lt;Ann&gt;, <time datetime="2026-11-22T08:05:00Z"><span>22 Nov 2026,</span> <span>08:05 UTC</span></time>.</p>`, "<footer>", "held by Example Ltd",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	// Public pages show no staff navigation and load nothing from
	// another host.
	if strings.Contains(body, "<nav") || strings.Contains(body, "/logout") {
		t.Errorf("a page without a session shows navigation:\n%s", body)
	}
	assertSelfContained(t, body)
}

// assertSelfContained fails when a page loads a script, or anything from
// another host.
func assertSelfContained(t *testing.T, body string) {
	t.Helper()
	if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
		t.Errorf("page has script or inline style:\n%s", body)
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("page refers to %q, not a path on this host", m[1])
		}
	}
}

func TestRenderFailureIsA500Page(t *testing.T) {
	ts := MustParse(testPages, "t/*.html")
	for _, name := range []string{"broken", "no-such-page"} {
		rec := httptest.NewRecorder()
		err := ts.Render(rec, httptest.NewRequest("GET", "/x", nil), http.StatusOK, name, Page{Title: "T", Data: struct{}{}})
		if err == nil {
			t.Fatalf("%s: no error returned", name)
		}
		body := rec.Body.String()
		if rec.Code != 500 || !strings.Contains(body, "Something went wrong") || strings.Contains(body, "Missing") || strings.Contains(body, "<h1>T</h1>") {
			t.Fatalf("%s: %d %s", name, rec.Code, body)
		}
	}
}

func TestErrorPage(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, httptest.NewRequest("GET", "/admin/x", nil), http.StatusNotFound, Problem{Title: "No such request", Text: "There is no request with that id."})
	body := rec.Body.String()
	if rec.Code != 404 || !strings.Contains(body, "<title>No such request · steward</title>") ||
		!strings.Contains(body, `<p class="error" role="alert">There is no request with that id.</p>`) ||
		!strings.Contains(body, `<a href="/login">Sign in</a>`) {
		t.Fatalf("%d %s", rec.Code, body)
	}
	assertSelfContained(t, body)
	// A public page's error offers its own way on and no sign-in.
	rec = httptest.NewRecorder()
	Error(rec, httptest.NewRequest("GET", "/privacy/x", nil), http.StatusGone, Problem{Site: "Example Ltd", Title: "This link has expired",
		Text: "Make a new request.", Next: Link{Label: "Make a request", Path: "/privacy/requests/new"}})
	body = rec.Body.String()
	if rec.Code != 410 || strings.Contains(body, "Sign in") || !strings.Contains(body, `<a href="/privacy/requests/new">Make a request</a>`) {
		t.Fatalf("%d %s", rec.Code, body)
	}
}

func TestNavigationByRole(t *testing.T) {
	labels := func(ls []Link) (s []string) {
		for _, l := range ls {
			s = append(s, l.Label)
		}
		return s
	}
	if got := labels(Navigation(auth.Support, "/admin/requests/r-1")); strings.Join(got, ",") != "Requests,Mailbox,Account" {
		t.Errorf("support sees %v", got)
	}
	if got := labels(Navigation(auth.Auditor, "/account")); strings.Join(got, ",") != "Reviews,Incidents,Records,Account" {
		t.Errorf("auditor sees %v", got)
	}
	if nav := Navigation(auth.IncidentManager, "/admin/incidents/7"); len(nav) != 2 || nav[0].Label != "Incidents" || !nav[0].Current {
		t.Errorf("incident manager on an incident sees %+v", nav)
	}
	if nav := Navigation(auth.PrivacyReviewer, "/admin/reviews/3"); len(nav) != 2 || nav[0].Label != "Reviews" || !nav[0].Current {
		t.Errorf("privacy reviewer on a proposal sees %+v", nav)
	}
	if got := labels(Navigation(auth.Analyst, "/account")); strings.Join(got, ",") != "Reviews,Account" {
		t.Errorf("analyst sees %v", got)
	}
	nav := Navigation(auth.Admin, "/admin/requests/r-1")
	if !nav[0].Current || nav[1].Current {
		t.Errorf("current entry not marked: %+v", nav)
	}
	if Navigation(auth.Admin, "/admin/requestsX")[0].Current {
		t.Error("a path that only shares a prefix is marked current")
	}
}

func TestDate(t *testing.T) {
	if got := Date(time.Time{}); got != "—" {
		t.Errorf("zero: %q", got)
	}
	if got := Date(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2 Jan 2026, 03:04 UTC" {
		t.Errorf("got %q", got)
	}
}

func TestMustParseWantsContent(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a page without content parsed")
		}
	}()
	MustParse(fstest.MapFS{"p.html": {Data: []byte(`<p>no define</p>`)}}, "*.html")
}

func TestProtect(t *testing.T) {
	reached := 0
	h := Protect(http.NewCrossOriginProtection(), "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	for _, c := range []struct {
		method string
		hdr    map[string]string
		pass   bool
	}{
		{"POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"POST", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"POST", map[string]string{"Origin": "https://evil.example"}, false},
		{"POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"POST", map[string]string{"Origin": "http://example.com"}, true},
		{"POST", nil, true}, // not a browser
		{"GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
	} {
		before := reached
		req := httptest.NewRequest(c.method, "http://example.com/login", nil)
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if passed := reached > before; passed != c.pass {
			t.Errorf("%s %v: passed=%v", c.method, c.hdr, passed)
		}
		if !c.pass && (rec.Code != 403 || !strings.Contains(rec.Body.String(), "nothing was changed")) {
			t.Errorf("%s %v: refusal %d %s", c.method, c.hdr, rec.Code, rec.Body.String())
		}
	}
}
