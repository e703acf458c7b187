package server

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// crossSite is what a browser sends with a form posted from another site;
// oldBrowser is the same from a browser without Sec-Fetch-Site.
var (
	crossSite  = map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	oldBrowser = map[string]string{"Origin": "https://evil.example"}
)

// postWith posts a form with extra headers, as a browser would.
func postWith(t testing.TB, c *http.Client, u string, form url.Values, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

// crossSitePost posts a form the way another site's page would.
func crossSitePost(t testing.TB, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	st, body, _ := postWith(t, c, u, form, crossSite)
	return st, body
}

// inShell fails unless body is a page drawn in the ui shell that loads
// nothing from another host and no script.
func inShell(t *testing.T, what, body string) {
	t.Helper()
	for _, want := range []string{`<link rel="stylesheet" href="/static/steward.css">`, "<header>", "<main>", "<footer>"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: not in the shell, lacks %q", what, want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<style") {
		t.Errorf("%s: has a script or inline style", what)
	}
	for _, m := range regexp.MustCompile(`(?:src|href|action)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if strings.HasPrefix(m[1], "mailto:") {
			continue // an address to write to; nothing is loaded
		}
		// A path on this host, or a place on the same page.
		if (!strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//")) && !strings.HasPrefix(m[1], "#") {
			t.Errorf("%s: refers to %q, not a path on this host", what, m[1])
		}
	}
}

// TestPagesRefuseCrossOriginPosts: a form posted from another site to the
// sign-in form, the public request form or a portal action is refused with
// a readable 403 page and changes nothing; the same form from steward's
// own page goes through.
func TestPagesRefuseCrossOriginPosts(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()

	// Sign-in (login CSRF): no session is started.
	addUser(t, n, "sam@staff.example.org", auth.Support)
	signinForm := url.Values{"login": {"sam@staff.example.org"}, "password": {staffPassword}}
	for name, hdr := range map[string]map[string]string{"cross-site": crossSite, "old browser": oldBrowser} {
		tab := newPage(t, n.http.URL)
		st, body, h := postWith(t, tab.c, n.http.URL+"/login", signinForm, hdr)
		if st != 403 || !strings.Contains(body, "This form came from another site") || !strings.Contains(body, "nothing was changed") {
			t.Fatalf("sign-in, %s: %d %s", name, st, body)
		}
		inShell(t, "sign-in refusal", body)
		if c := h.Get("Set-Cookie"); c != "" {
			t.Fatalf("sign-in, %s: a refused sign-in set a cookie: %s", name, c)
		}
	}
	tab := newPage(t, n.http.URL)
	if st, _, _ := postWith(t, tab.c, n.http.URL+"/login", signinForm,
		map[string]string{"Origin": n.http.URL, "Sec-Fetch-Site": "same-origin"}); st != 303 || tab.cookie(auth.SessionCookie) == "" {
		t.Fatalf("sign-in from steward's own page: %d", st)
	}

	// The public request form: nothing is stored or mailed.
	b := newBrowser(t, n.http.URL)
	request := url.Values{"email": {"ann@example.org"}, "type": {"access"}}
	for name, hdr := range map[string]map[string]string{"cross-site": crossSite, "old browser": oldBrowser} {
		st, body, _ := postWith(t, b.c, n.http.URL+"/privacy/requests", request, hdr)
		if st != 403 || !strings.Contains(body, "nothing was changed") {
			t.Fatalf("request form, %s: %d %s", name, st, body)
		}
		inShell(t, "request form refusal", body)
	}
	if _, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10}); total != 0 {
		t.Fatalf("a cross-site request was stored: %d", total)
	}
	if st, body, _ := postWith(t, b.c, n.http.URL+"/privacy/requests", request,
		map[string]string{"Origin": n.http.URL, "Sec-Fetch-Site": "same-origin"}); st != 200 || !strings.Contains(body, "Your request was received") {
		t.Fatalf("request form from steward's own page: %d", st)
	}

	// A portal action, with a live session and its valid form token: a
	// Facebook request starts received, so support may take it.
	sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelFacebook, Type: rights.Erasure, FacebookUserID: "fb-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Request.ID
	support := loginAs(t, n, "sam@staff.example.org")
	st, page, _ := support.get("/admin/requests/" + id)
	form := hidden(page)
	if st != 200 || form.Get(ui.CSRFField) == "" || form.Get("version") == "" {
		t.Fatalf("detail: %d %v", st, form)
	}
	take := url.Values{ui.CSRFField: {form.Get(ui.CSRFField)}, "version": {form.Get("version")}}
	for name, hdr := range map[string]map[string]string{"cross-site": crossSite, "old browser": oldBrowser} {
		st, body, _ := postWith(t, support.c, n.http.URL+"/admin/requests/"+id+"/take", take, hdr)
		if st != 403 || !strings.Contains(body, "This form came from another site") {
			t.Fatalf("take, %s: %d %s", name, st, body)
		}
		inShell(t, "take refusal", body)
	}
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.Received) || r.Assignee != "" {
		t.Fatalf("a cross-site take changed the request: %s %q", r.Status, r.Assignee)
	}
	if st, _, h := postWith(t, support.c, n.http.URL+"/admin/requests/"+id+"/take", take,
		map[string]string{"Origin": n.http.URL, "Sec-Fetch-Site": "same-origin"}); st != 303 || !strings.Contains(h.Get("Location"), "notice=take") {
		t.Fatalf("take from steward's own page: %d", st)
	}
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.InProgress) {
		t.Fatalf("take: %s", r.Status)
	}
}

// TestPagesShareTheShell: every page, public or staff, and every error
// page is drawn in the same layout; the navigation shows what the role may
// open; the public pages set no cookie.
func TestPagesShareTheShell(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	anon := newPage(t, n.http.URL)
	for _, path := range []string{"/login", "/privacy/requests/new"} {
		st, body, h := anon.get(path)
		if st != 200 || h.Get("Set-Cookie") != "" {
			t.Fatalf("%s: %d, Set-Cookie %q", path, st, h.Get("Set-Cookie"))
		}
		inShell(t, path, body)
		if strings.Contains(body, "<nav") {
			t.Errorf("%s shows staff navigation without a session", path)
		}
		// Nobody learns the roles from the sign-in form.
		for _, role := range auth.Roles {
			if strings.Contains(body, ">"+string(role)+"<") || strings.Contains(body, `value="`+string(role)+`"`) {
				t.Errorf("%s names the role %s to an anonymous visitor", path, role)
			}
		}
	}
	st, body, _ := anon.get("/privacy/requests/r-aaaaaaaaaaaaaaaa?token=x")
	if st != 404 || !strings.Contains(body, "This link is not valid") || !strings.Contains(body, `href="/privacy/requests/new"`) {
		t.Fatalf("bad link: %d %s", st, body)
	}
	inShell(t, "bad link", body)

	support := signIn(t, n, auth.Support)
	st, body, _ = support.get("/admin/requests")
	if st != 200 || !strings.Contains(body, `<a href="/admin/requests" aria-current="page">Requests</a>`) ||
		!strings.Contains(body, `<a href="/account">Account</a>`) || !strings.Contains(body, "support@staff.example.org (support)") ||
		!strings.Contains(body, `action="/logout"`) {
		t.Fatalf("portal list: %d %s", st, body)
	}
	inShell(t, "portal list", body)
	st, body, _ = support.get("/admin/requests/r-aaaaaaaaaaaaaaaa")
	if st != 404 || !strings.Contains(body, "There is no request with that id.") || !strings.Contains(body, "<nav") {
		t.Fatalf("no such request: %d %s", st, body)
	}
	inShell(t, "no such request", body)
	st, body, _ = support.get("/admin/requests?page=zero")
	if st != 400 || !strings.Contains(body, "page must be a whole number") {
		t.Fatalf("bad filter: %d", st)
	}
	st, body, _ = support.get("/admin/requests?due=yesterday&status=lost")
	if st != 400 || !strings.Contains(body, "unknown status; unknown deadline filter") || !strings.Contains(body, `class="filters"`) {
		t.Fatalf("bad deadline filter: %d %s", st, body)
	}
	// With nothing stored yet, the charts are drawn empty, not broken.
	st, body, _ = support.get("/admin/requests/trends")
	if st != 200 || !strings.Contains(body, "No request was completed") || strings.Count(body, "<svg") != 2 {
		t.Fatalf("trends: %d %s", st, body)
	}
	inShell(t, "trends", body)
	admin := signIn(t, n, auth.Admin)
	st, body, _ = admin.get("/admin/collection")
	if st != 200 || !strings.Contains(body, `aria-current="page">Collection</a>`) || !strings.Contains(body, "Nothing was sent to this dataset") {
		t.Fatalf("collection: %d %s", st, body)
	}
	inShell(t, "collection", body)

	// An auditor is not shown the portal, and is told why when they open it.
	auditor := signIn(t, n, auth.Auditor)
	st, body, _ = auditor.get("/account")
	if st != 200 || strings.Contains(body, `href="/admin/requests"`) || !strings.Contains(body, `aria-current="page">Account</a>`) {
		t.Fatalf("auditor's account: %d %s", st, body)
	}
	inShell(t, "account", body)
	st, body, _ = auditor.get("/admin/requests")
	if st != 403 || !strings.Contains(body, "Role auditor may not use this page.") || !strings.Contains(body, `<a href="/account">Account</a>`) {
		t.Fatalf("auditor in the portal: %d %s", st, body)
	}
	inShell(t, "role refusal", body)
	// A signed-out post reads a page with the way back in.
	if st, body, _ := newPage(t, n.http.URL).postForm("/logout", url.Values{}); st != 401 || !strings.Contains(body, `<a href="/login">Sign in</a>`) {
		t.Fatalf("signed-out post: %d %s", st, body)
	}
}

// TestNavigationMatchesRoutes: each navigation entry is a page whose route
// lets in exactly the roles that see the entry, so nobody is offered a
// link that answers 403 and nobody misses one they may use.
func TestNavigationMatchesRoutes(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	for _, e := range ui.Entries() {
		i := slices.IndexFunc(n.srv.Routes(), func(r Route) bool { return r.Pattern == "GET "+e.Path })
		if i < 0 {
			t.Errorf("navigation entry %q: no route GET %s", e.Label, e.Path)
			continue
		}
		r := n.srv.Routes()[i]
		if !r.Page {
			t.Errorf("navigation entry %q: %s is not a signed-in page", e.Label, r.Pattern)
		}
		want := e.Roles
		if want == nil {
			want = []auth.Role{}
		}
		if !slices.Equal(slices.Sorted(slices.Values(r.Roles)), slices.Sorted(slices.Values(want))) {
			t.Errorf("navigation entry %q is shown to %v, but %s lets in %v", e.Label, want, r.Pattern, r.Roles)
		}
	}
}
