package server

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// tab drives one Chromium tab through steward's pages the way a person
// would: it types, ticks, presses buttons and reads what is shown.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// open loads a page and returns its HTTP status (after redirects).
func (b tab) open(u string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	return resp.Status
}

// press clicks a button or link that leads to another page and returns
// that page's HTTP status.
func (b tab) press(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("press %s: %v", sel, err)
	}
	return resp.Status
}

func (b tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// text is what the page shows.
func (b tab) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// status is the status shown in the first table of a request's page.
func (b tab) status() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("table td strong")))
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func (b tab) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// shows fails the test unless the page shows every one of want.
func (b tab) shows(step string, want ...string) string {
	b.t.Helper()
	page := b.text()
	for _, w := range want {
		if !strings.Contains(page, w) {
			b.t.Fatalf("%s: the page at %s does not show %q:\n%s", step, b.location(), w, page)
		}
	}
	return page
}

// fillRequest fills the public request form for an erasure.
func (b tab) fillRequest(base, email string, acknowledge bool) {
	b.t.Helper()
	if st := b.open(base + "/privacy/requests/new"); st != 200 {
		b.t.Fatalf("request form: %d", st)
	}
	b.do(chromedp.WaitVisible(chromedp.ID("email")), chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.Click(chromedp.ID("t-erasure")))
	if acknowledge {
		b.do(chromedp.Click(chromedp.ID("ack")))
	}
}

// signIn fills the staff sign-in form the browser was sent to.
func (b tab) signIn(login string) int64 {
	b.t.Helper()
	if u, _ := url.Parse(b.location()); u == nil || u.Path != "/login" {
		b.t.Fatalf("expected the sign-in page, at %s", b.location())
	}
	b.do(chromedp.WaitVisible(chromedp.ID("login")), chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), staffPassword))
	return b.press(`form[action="/login"] button[type=submit]`)
}

// TestErasureInChromium walks an erasure request through steward's pages
// in real Chromium: the person asks and confirms in one browser profile,
// support signs in, takes and executes it in another, the grace period
// passes and both see it done.
func TestErasureInChromium(t *testing.T) {
	started := time.Now()
	alice := tab{t, chromium(t)}
	n, mail, app := requestsNode(t, "")
	ctx := context.Background()
	base := n.http.URL
	const email = "alice@example.org"

	// 1. Alice asks; without the acknowledgement the form comes back with
	// what she typed.
	alice.fillRequest(base, email, false)
	alice.shot("request-form")
	alice.shows("form", "You can ask Example Ltd", "within one month", "GDPR", "privacy notice", "dpo@example.org")
	if href := eval[string](alice, `document.querySelector('a[href="/privacy"]') ? "/privacy" : ""`); href != "/privacy" {
		t.Error("the form does not link to the privacy notice")
	}
	if st := alice.press(`form[action="/privacy/requests"] button[type=submit]`); st != 400 {
		t.Fatalf("without acknowledgement: %d", st)
	}
	alice.shows("without acknowledgement", "cannot be undone")
	if v, _ := chromedp.Run(alice.ctx, chromedp.Value(chromedp.ID("email"))); v != email {
		t.Fatalf("the form lost the e-mail address: %q", v)
	}
	if _, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10}); total != 0 {
		t.Fatalf("an unacknowledged erasure was stored: %d", total)
	}
	alice.do(chromedp.Click(chromedp.ID("ack")))
	if st := alice.press(`form[action="/privacy/requests"] button[type=submit]`); st != 200 {
		t.Fatalf("submit: %d", st)
	}
	alice.shows("sent", "Check your e-mail", email)
	list, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10})
	if total != 1 {
		t.Fatalf("%d requests stored", total)
	}
	id := list[0].ID

	// 2. The mail's link shows a button; pressing it confirms.
	deliver(t, n)
	body := mailTo(t, mail, email, "Please confirm your erasure request")
	var confirmLink, statusLink string
	for _, l := range links(body) {
		if strings.Contains(l, "/confirm?") {
			confirmLink = l
		} else if strings.Contains(l, "/privacy/requests/"+id+"?token=") {
			statusLink = l
		}
	}
	if confirmLink == "" || statusLink == "" {
		t.Fatalf("links in the mail: %q", body)
	}
	if st := alice.open(confirmLink); st != 200 {
		t.Fatalf("confirm page: %d", st)
	}
	alice.shows("confirm page", "erase the personal data we hold about", email, "Erasure cannot be undone.")
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.WaitingForEmail) {
		t.Fatalf("opening the link changed the request: %s", r.Status)
	}
	if st := alice.press(`form[action$="/confirm"] button[type=submit]`); st != 200 {
		t.Fatalf("confirm: %d", st)
	}
	alice.shows("confirmed", "Thank you: your request is confirmed.", "received, waiting for our team", id)
	if loc := alice.location(); !strings.Contains(loc, "/privacy/requests/"+id+"?token=") {
		t.Fatalf("after confirming: at %s", loc)
	}

	// A second request for the same address names the open one.
	alice.fillRequest(base, email, true)
	if st := alice.press(`form[action="/privacy/requests"] button[type=submit]`); st != 409 {
		t.Fatalf("duplicate: %d", st)
	}
	alice.shows("duplicate", "An erasure request for this person is already open (request "+id+")", "sent by e-mail")
	if _, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10}); total != 1 {
		t.Fatalf("the duplicate was stored: %d requests", total)
	}

	// 3. Support signs in, in another browser profile, and finds it.
	addUser(t, n, "support@staff.example.org", auth.Support)
	support := tab{t, chromium(t)}
	support.open(base + "/admin/requests")
	if u, _ := url.Parse(support.location()); u.Path != "/login" || u.Query().Get("next") != "/admin/requests" {
		t.Fatalf("the portal without a session: at %s", support.location())
	}
	if st := support.signIn("support@staff.example.org"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	if u, _ := url.Parse(support.location()); u.Path != "/admin/requests" {
		t.Fatalf("after sign-in: at %s", support.location())
	}
	support.shows("list", "Data subject requests", id, email)
	if st := support.press(`a[href="/admin/requests/` + id + `"]`); st != 200 {
		t.Fatalf("detail: %d", st)
	}
	support.shows("detail", "Request "+id, "Received", "Take this request")
	detail := base + "/admin/requests/" + id

	// A take form without its CSRF token is refused and changes nothing.
	before, _ := n.srv.Store.RequestHistory(ctx, id)
	if removed, err := chromedp.Run(support.ctx, chromedp.Evaluate[bool](
		`(() => { const i = document.querySelector('form[action$="/take"] input[name=csrf_token]'); if (!i) return false; i.remove(); return true; })()`)); err != nil || !removed {
		t.Fatalf("removing the take form's csrf_token: %v %v", removed, err)
	}
	if st := support.press(`form[action$="/take"] button[type=submit]`); st != 403 {
		t.Fatalf("take without csrf: %d", st)
	}
	support.shows("take without csrf", "The form expired", "nothing was changed")
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.Received) || r.Assignee != "" {
		t.Fatalf("a take without csrf changed the request: %s %q", r.Status, r.Assignee)
	}
	if after, _ := n.srv.Store.RequestHistory(ctx, id); len(after) != len(before) {
		t.Fatalf("a take without csrf added history: %d → %d", len(before), len(after))
	}

	// Take and execute: the account is deactivated at once, the purge
	// waits for the grace period.
	support.open(detail)
	if st := support.press(`form[action$="/take"] button[type=submit]`); st != 200 {
		t.Fatalf("take: %d", st)
	}
	support.shows("taken", "You took the request.", "In progress", "taken by support@staff.example.org", "Execute (erasure)")
	if st := support.press(`form[action$="/execute"] button[type=submit]`); st != 200 {
		t.Fatalf("execute: %d", st)
	}
	support.shows("executed", "Execution ran; see the steps below.", "In progress", "Purge after", "deactivate")
	appDB, err := sql.Open("sqlite", app.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer appDB.Close()
	var active int
	appDB.QueryRow("SELECT active FROM users WHERE id = 'u1'").Scan(&active)
	if active != 0 {
		t.Fatal("account not deactivated")
	}
	alice.open(statusLink)
	alice.shows("deactivated", "in progress", "Your account was deactivated everywhere")

	// 4. The grace period passes and the scheduler purges.
	n.clock.Advance(n.srv.Rights.Config.Grace + time.Minute)
	if err := n.srv.Rights.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.Done) {
		t.Fatalf("after the grace period: %s", r.Status)
	}
	var comments int
	appDB.QueryRow("SELECT count(*) FROM comments WHERE user_id = 'u1'").Scan(&comments)
	if comments != 0 {
		t.Fatalf("comments left after purge: %d", comments)
	}
	// The staff session (8 hours) ended meanwhile: the reload asks to
	// sign in again and then returns to the request.
	support.open(detail)
	if u, _ := url.Parse(support.location()); u.Path == "/login" {
		t.Log("the staff session ended with the grace period; signing in again")
		if st := support.signIn("support@staff.example.org"); st != 200 {
			t.Fatalf("second sign-in: %d", st)
		}
	}
	if u, _ := url.Parse(support.location()); u.Path != "/admin/requests/"+id {
		t.Fatalf("after signing in again: at %s", support.location())
	}
	page := support.shows("done in the portal", "purge")
	support.shot("portal-detail-done")
	// At a small laptop's width the steps and history still fit: words
	// wrap between words, and nothing needs a sideways scroll.
	support.do(chromedp.EmulateViewport(800, 600))
	support.open(detail)
	if over := eval[int](support, `[...document.querySelectorAll(".scroll")].filter(d => d.scrollWidth > d.clientWidth + 1).length`); over != 0 {
		t.Errorf("%d tables of the request's page need a sideways scroll at 800 px", over)
	}
	support.shot("portal-detail-done-800")
	if st := support.status(); st != "Done" {
		t.Fatalf("portal status after the purge: %q", st)
	}
	if strings.Contains(page, "Take this request") || strings.Contains(page, "Execute") || strings.Contains(page, "Continue execution") {
		t.Fatalf("a done request still offers actions:\n%s", page)
	}

	// 5. Alice is told, and her page says so in plain words.
	deliver(t, n)
	done := mailTo(t, mail, email, "Your erasure request "+id+" is done")
	if !strings.Contains(done, statusLink) {
		t.Fatalf("done mail: %s", done)
	}
	if st := alice.open(statusLink); st != 200 {
		t.Fatalf("status page: %d", st)
	}
	// What was erased where, in words: each system by its label, no
	// connector names, no empty steps.
	page = alice.shows("done for alice", "Erasure of your personal data", "The request is done.", "What we erased",
		"Your account and comments in the Example app", "3 records erased", "made unusable at once (1 record)",
		"Download the signed receipt", "/.well-known/steward-receipt-key.pem")
	if st := alice.status(); st != "done" {
		t.Fatalf("status page says %q", st)
	}
	alice.shot("status-done")
	for _, internal := range []string{"support@staff.example.org", "app_db", "steward-events", "0 records", "deleted 0"} {
		if strings.Contains(page, internal) {
			t.Fatalf("the status page shows %q:\n%s", internal, page)
		}
	}
	t.Logf("walked through in %s", time.Since(started).Round(time.Millisecond))
}
