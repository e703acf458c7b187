package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/auth"
)

// offSiteNexts are return addresses that browsers would follow to another
// host: they drop TAB, LF and CR inside a URL and read "\" as "/". host is
// where they would land.
func offSiteNexts(host string) []string {
	return []string{
		"/\t/" + host + "/", "/%09/" + host + "/", "/\t\\" + host + "/", "/\n/" + host + "/", "/%0a/" + host + "/",
		"/\r/" + host + "/", "/%0d/" + host + "/", "/\v/" + host + "/", "/\f/" + host + "/", "/\x00/" + host + "/",
		"/%00/" + host + "/", "/\\" + host + "/", "\\/" + host + "/", "//" + host + "/", "/%2F" + host + "/",
		"/%5C" + host + "/", "///" + host + "/", "https://" + host + "/", "HTTPS:" + host, "javascript:alert(1)",
	}
}

// TestSignInReturnsOnlyToThisSite posts the sign-in form with each
// off-site return address and checks where steward sends the browser.
func TestSignInReturnsOnlyToThisSite(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	addUser(t, n, "sam@staff.example.org", auth.Support)
	signInWith := func(next string) (int, string, string) {
		p := newPage(t, n.http.URL)
		_, body, _ := p.get("/login?next=" + url.QueryEscape(next))
		v := hidden(body)
		form := v.Get("next")
		v.Set("next", next) // as posted by a crafted form, not the one steward rendered
		v.Set("login", "sam@staff.example.org")
		v.Set("password", staffPassword)
		resp, err := p.c.PostForm(n.http.URL+"/login", v)
		if err != nil { // Go's client refuses a Location with a control character
			return 0, err.Error(), form
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location"), form
	}
	for _, next := range offSiteNexts("evil.test") {
		s, loc, form := signInWith(next)
		if s != http.StatusSeeOther || loc != "/account" || form != "/account" {
			t.Errorf("next=%q: %d Location %q (form held %q), want 303 to /account", next, s, loc, form)
		}
	}
	for _, next := range []string{"/admin/requests?status=received", "/account"} {
		if s, loc, form := signInWith(next); s != http.StatusSeeOther || loc != next || form != next {
			t.Errorf("next=%q: %d Location %q (form held %q), want it kept", next, s, loc, form)
		}
	}
}

// leave waits until the tab has left the page at path (on steward's
// origin) and returns where it went. A navigation aborted on the way
// shows as a location that is not steward's either.
func (b tab) leave(path string) string {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		loc := b.location()
		if u, err := url.Parse(loc); err != nil || u.Path != path || time.Now().After(deadline) {
			b.do(chromedp.WaitReady(chromedp.CSS("body")))
			return b.location()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSignInReturnsOnlyToThisSiteInChromium signs in in real Chromium
// with return addresses that lead to another origin (a second local
// server standing in for the attacker's) and checks that the page the
// browser ends on is steward's account page. steward's CSP has
// form-action 'self', which Chromium also applies to the redirect after
// a form; not every browser does, so each address is also tried with the
// CSP bypassed, which tests steward's own check.
func TestSignInReturnsOnlyToThisSiteInChromium(t *testing.T) {
	b := tab{t, chromium(t)}
	n := startNode(t, testConfig(t, ""))
	addUser(t, n, "support@staff.example.org", auth.Support)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><title>evil</title><p>phished</p>"))
	}))
	t.Cleanup(evil.Close)
	eu, _ := url.Parse(evil.URL)
	nexts := append(offSiteNexts(eu.Host)[:8], "/%5C"+eu.Host+"/", "//"+eu.Host+"/")
	for _, bypass := range []bool{false, true} {
		b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: bypass})
			return err
		}))
		for _, next := range nexts {
			b.open(n.http.URL + "/login?next=" + url.QueryEscape(next))
			// A crafted page could post its own value rather than the one
			// steward rendered; put the address back into the form.
			b.do(chromedp.WaitVisible(chromedp.ID("login")), chromedp.SetValue(chromedp.CSS(`input[name="next"]`), next),
				chromedp.SendKeys(chromedp.ID("login"), "support@staff.example.org"), chromedp.SendKeys(chromedp.ID("password"), staffPassword),
				chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
			loc := b.leave("/login")
			u, err := url.Parse(loc)
			if err != nil || u.Scheme+"://"+u.Host != n.http.URL {
				t.Errorf("CSP bypassed %v, next=%q: the browser ended at %s, not on steward (%s)", bypass, next, loc, n.http.URL)
				continue
			}
			if u.Path != "/account" || !strings.Contains(b.text(), "support@staff.example.org") {
				t.Errorf("CSP bypassed %v, next=%q: ended at %s, want the account page", bypass, next, loc)
			}
		}
	}
}
