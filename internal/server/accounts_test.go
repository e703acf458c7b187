package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/auth/ldap/ldaptest"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/signin"
	"github.com/steward-privacy/steward/internal/store"
)

// testArgon2 keeps password hashing cheap in tests; the format and the
// code path are the real ones.
var testArgon2 = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

const staffPassword = "correct horse battery"

// addUser creates a local account the way `steward user add` does.
func addUser(t testing.TB, n *node, email string, role auth.Role) {
	t.Helper()
	hash, err := auth.HashPassword(staffPassword, testArgon2)
	if err != nil {
		t.Fatal(err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	if err := n.srv.Store.CreateUser(context.Background(), store.User{
		ID: hex.EncodeToString(id[:]), Email: email, Role: string(role), PasswordHash: hash, CreatedAt: n.clock.Now(),
	}); err != nil {
		t.Fatal(err)
	}
}

// page is a browser tab on steward's pages: it keeps cookies and does not
// follow redirects, so each answer can be checked.
type page struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newPage(t testing.TB, base string) *page {
	jar, _ := cookiejar.New(nil)
	return &page{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *page) get(path string) (int, string, http.Header) {
	p.t.Helper()
	resp, err := p.c.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

func (p *page) postForm(path string, v url.Values) (int, string, http.Header) {
	p.t.Helper()
	resp, err := p.c.PostForm(p.base+path, v)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)

// hidden returns a page's hidden form fields (the first of each name).
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		if v.Get(m[1]) == "" {
			v.Set(m[1], htmlUnescape(m[2]))
		}
	}
	return v
}

// login fills in the sign-in form as a person would.
func (p *page) login(login, password, role, next string) (int, string, http.Header) {
	p.t.Helper()
	_, body, _ := p.get("/login?next=" + url.QueryEscape(next))
	v := hidden(body)
	v.Set("login", login)
	v.Set("password", password)
	v.Set("role", role)
	return p.postForm("/login", v)
}

// signIn creates an account in role and signs a new tab in with it.
func signIn(t testing.TB, n *node, role auth.Role) *page {
	t.Helper()
	email := string(role) + "@staff.example.org"
	addUser(t, n, email, role)
	return loginAs(t, n, email)
}

// loginAs signs a new tab in with an existing account.
func loginAs(t testing.TB, n *node, email string) *page {
	t.Helper()
	p := newPage(t, n.http.URL)
	if status, body, _ := p.login(email, staffPassword, "", "/account"); status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d %s", email, status, body)
	}
	return p
}

// csrf is the signed-in tab's form token, read from its account page.
func (p *page) csrf() string {
	p.t.Helper()
	status, body, _ := p.get("/account")
	if status != http.StatusOK {
		p.t.Fatalf("/account: %d", status)
	}
	return hidden(body).Get(auth.CSRFField)
}

func (p *page) cookie(name string) string {
	u, _ := url.Parse(p.base)
	for _, c := range p.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestSignInSessionsAndThrottling(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			addUser(t, n, "sam@staff.example.org", auth.Support)

			// Unknown account and wrong password read the same.
			p := newPage(t, n.http.URL)
			s1, b1, _ := p.login("nobody@staff.example.org", staffPassword, "", "")
			s2, b2, _ := p.login("sam@staff.example.org", "wrong password here", "", "")
			if s1 != 401 || s2 != 401 || !strings.Contains(b1, "password is wrong") || !strings.Contains(b2, "password is wrong") {
				t.Fatalf("bad sign-ins: %d %d", s1, s2)
			}
			// A sign-in posted from another site is refused (login CSRF).
			if s, body := crossSitePost(t, p.c, n.http.URL+"/login", url.Values{"login": {"sam@staff.example.org"}, "password": {staffPassword}}); s != 403 ||
				!strings.Contains(body, "nothing was changed") || p.cookie(auth.SessionCookie) != "" {
				t.Fatalf("sign-in from another site: %d, want 403 and no session", s)
			}
			// A page asks for a sign-in and returns to itself after it.
			if s, _, h := p.get("/admin/requests?status=received"); s != 303 || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
				t.Fatalf("portal without a session: %d %s", s, h.Get("Location"))
			}
			// Session fixation: a session secret planted before sign-in
			// (here the attacker's own live session) is never the one
			// the person ends up with, and stops working.
			attacker := signIn(t, n, auth.Analyst)
			planted := attacker.cookie(auth.SessionCookie)
			u, _ := url.Parse(n.http.URL)
			p.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: planted, Path: "/"}})
			s, _, h := p.login("sam@staff.example.org", staffPassword, "", "/admin/requests?status=received")
			if s != 303 || h.Get("Location") != "/admin/requests?status=received" {
				t.Fatalf("sign-in: %d %q", s, h.Get("Location"))
			}
			got := p.cookie(auth.SessionCookie)
			if got == "" || got == planted {
				t.Fatal("the planted session secret survived sign-in")
			}
			if s, _, _ := attacker.get("/account"); s != 303 {
				t.Fatalf("the planted session still works: %d", s)
			}
			for _, c := range h.Values("Set-Cookie") {
				if strings.HasPrefix(c, auth.SessionCookie+"=") && (!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict")) {
					t.Fatalf("session cookie lacks HttpOnly/SameSite: %s", c)
				}
			}
			if s, body, _ := p.get("/admin/requests"); s != 200 || !strings.Contains(body, "sam@staff.example.org") {
				t.Fatalf("portal after sign-in: %d", s)
			}
			// Role chosen at sign-in must be held.
			q := newPage(t, n.http.URL)
			if s, body, _ := q.login("sam@staff.example.org", staffPassword, "admin", ""); s != 401 || !strings.Contains(body, "do not hold the role") {
				t.Fatalf("sign-in with a role not held: %d", s)
			}
			// An off-site return address is ignored.
			if s, _, h := q.login("sam@staff.example.org", staffPassword, "", "//evil.example/x"); s != 303 || h.Get("Location") != "/account" {
				t.Fatalf("open redirect: %d %q", s, h.Get("Location"))
			}

			// Forms of a signed-in page need the session's token.
			if s, body, _ := p.postForm("/logout", url.Values{}); s != 403 || !strings.Contains(body, "nothing was changed") {
				t.Fatalf("sign-out without the token: %d", s)
			}
			if s, _, _ := p.postForm("/logout", url.Values{auth.CSRFField: {q.csrf()}}); s != 403 {
				t.Fatalf("sign-out with another session's token: %d, want 403", s)
			}
			if s, _, _ := p.get("/account"); s != 200 {
				t.Fatalf("session ended by a forged form: %d", s)
			}
			if s, _, h := p.postForm("/logout", url.Values{auth.CSRFField: {p.csrf()}}); s != 303 || !strings.HasPrefix(h.Get("Location"), "/login") {
				t.Fatalf("sign-out: %d", s)
			}
			if s, _, _ := p.get("/account"); s != 303 {
				t.Fatalf("signed out but /account: %d", s)
			}
			if _, body, _ := p.get("/login?signed_out=1"); !strings.Contains(body, "You are signed out.") {
				t.Fatal("the sign-in page does not confirm the sign-out")
			}

			// Sessions end after their lifetime.
			n.clock.Advance(8*time.Hour + time.Second)
			if s, _, _ := q.get("/account"); s != 303 {
				t.Fatalf("expired session still works: %d", s)
			}

			// Throttling: after five failures even the right password is
			// turned away until the window has passed.
			r := newPage(t, n.http.URL)
			for i := 0; i < signin.MaxPerAccount; i++ {
				if s, _, _ := r.login("SAM@staff.example.org", "not the password", "", ""); s != 401 {
					t.Fatalf("failure %d: %d", i, s)
				}
			}
			s, body, h := r.login("sam@staff.example.org", staffPassword, "", "")
			if s != 429 || h.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-ins") {
				t.Fatalf("throttled sign-in: %d %q", s, h.Get("Retry-After"))
			}
			n.clock.Advance(signin.Window + time.Second)
			if s, _, _ := r.login("sam@staff.example.org", staffPassword, "", ""); s != 303 {
				t.Fatalf("after the window: %d", s)
			}

			// Disabling an account ends its sessions and its sign-ins.
			if err := n.srv.Store.DisableUser(context.Background(), "sam@staff.example.org", n.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if s, _, _ := r.get("/account"); s != 303 {
				t.Fatalf("disabled account's session: %d", s)
			}
			if s, _, _ := newPage(t, n.http.URL).login("sam@staff.example.org", staffPassword, "", ""); s != 401 {
				t.Fatalf("disabled account signs in: %d", s)
			}
			// No password reaches a log line.
			if strings.Contains(n.logs.String(), staffPassword) || strings.Contains(n.logs.String(), "not the password") {
				t.Fatal("a password reached the log")
			}
		})
	}
}

func TestTokensExpireAndAreRevoked(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	live, _, _ := auth.NewToken(ctx, n.srv.Store, "live", auth.Auditor, time.Hour, n.clock.Now())
	revoked, rt, _ := auth.NewToken(ctx, n.srv.Store, "revoked", auth.Auditor, 0, n.clock.Now())
	if err := n.srv.Store.RevokeToken(ctx, rt.ID, n.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"malformed": "stw_short", "unknown": "stw_" + strings.Repeat("A", 43), "revoked": revoked,
		"not a bearer": "", "session cookie value": strings.Repeat("x", 43),
	} {
		if s, body, _ := do(t, "GET", n.http.URL+"/v1/access-log", tok, "", nil); s != 401 || body["type"] == nil {
			t.Errorf("%s token: %d %v", name, s, body)
		}
	}
	if s, _, _ := do(t, "GET", n.http.URL+"/v1/access-log", live, "", nil); s != 200 {
		t.Fatalf("live token: %d", s)
	}
	n.clock.Advance(time.Hour)
	if s, _, _ := do(t, "GET", n.http.URL+"/v1/access-log", live, "", nil); s != 401 {
		t.Fatalf("expired token: %d", s)
	}
	if strings.Contains(n.logs.String(), revoked) || strings.Contains(n.logs.String(), live) {
		t.Fatal("a token secret reached the log")
	}
}

func TestDirectorySignIn(t *testing.T) {
	dir := ldaptest.Start(t)
	cfg := testConfig(t, "")
	lc := dir.Config()
	roles := map[string]string{}
	for g, r := range lc.GroupRoles {
		roles[g] = string(r)
	}
	cfg.LDAP = &config.LDAP{URL: lc.URL, StartTLS: true, CAFile: lc.CAFile, UserDNTemplate: lc.UserDNTemplate,
		GroupBase: lc.GroupBase, GroupFilter: lc.GroupFilter, GroupRoles: roles, Timeout: 3 * time.Second}
	n := startNode(t, cfg)
	addUser(t, n, "local@staff.example.org", auth.Support)

	alice := ldaptest.Lookup("alice")
	p := newPage(t, n.http.URL)
	if s, body, _ := p.login(alice.Login, alice.Password, "", "/admin/requests"); s != 303 {
		t.Fatalf("directory sign-in: %d %s", s, body)
	}
	if s, body, _ := p.get("/account"); s != 200 || !strings.Contains(body, alice.Email) || !strings.Contains(body, "corporate directory") {
		t.Fatalf("account page: %d", s)
	}
	if s, _, _ := p.get("/admin/requests"); s != 200 {
		t.Fatalf("support from the directory in the portal: %d", s)
	}
	// Several groups: the person names a role they hold, in a field that
	// lists none.
	_, form, _ := newPage(t, n.http.URL).get("/login")
	if !strings.Contains(form, `<input id="role" name="role" type="text"`) || strings.Contains(form, "<select") || strings.Contains(form, "auditor") {
		t.Fatalf("the directory's sign-in form: %s", form)
	}
	if s, body, _ := newPage(t, n.http.URL).login(alice.Login, alice.Password, "overlord", ""); s != 400 || !strings.Contains(body, "no role of that name") {
		t.Fatalf("a role that does not exist: %d %s", s, body)
	}
	bob := ldaptest.Lookup("bob")
	q := newPage(t, n.http.URL)
	if s, _, _ := q.login(bob.Login, bob.Password, "auditor", ""); s != 303 {
		t.Fatalf("bob as auditor: %d", s)
	}
	if _, body, _ := q.get("/account"); !strings.Contains(body, ">auditor<") {
		t.Fatal("bob's session is not auditor")
	}
	if s, _, _ := q.get("/admin/requests"); s != 403 {
		t.Fatalf("auditor in the portal: %d, want 403", s)
	}
	// Right password, no mapped group.
	carol := ldaptest.Lookup("carol")
	if s, body, _ := newPage(t, n.http.URL).login(carol.Login, carol.Password, "", ""); s != 401 || !strings.Contains(body, "none of your directory groups") {
		t.Fatalf("carol: %d", s)
	}
	if s, _, _ := newPage(t, n.http.URL).login(alice.Login, "wrong-Pass-9", "", ""); s != 401 {
		t.Fatalf("wrong directory password: %d", s)
	}

	// The directory goes down: a clear message, and local users still work.
	dir.Stop()
	s, body, _ := newPage(t, n.http.URL).login(alice.Login, alice.Password, "", "")
	if s != 401 || !strings.Contains(body, "could not be reached") {
		t.Fatalf("directory down: %d %s", s, body)
	}
	if s, _, _ := newPage(t, n.http.URL).login("local@staff.example.org", staffPassword, "", ""); s != 303 {
		t.Fatalf("local user while the directory is down: %d", s)
	}
	// A session begun with the directory outlives the outage.
	if s, _, _ := p.get("/account"); s != 200 {
		t.Fatalf("directory session during the outage: %d", s)
	}
}
