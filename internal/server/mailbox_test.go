package server

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
)

var confirmLinkRE = regexp.MustCompile(`http://\S+/confirm\?\S+`)

// With no SMTP server, a request's confirmation mail is kept in the local
// mailbox: the form says it was not sent, start-up said where it goes,
// staff read it in the portal (each view in the access log) and its link
// confirms the request.
func TestLocalMailbox(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	if n.srv.Mailbox == nil {
		t.Fatal("no SMTP server configured, yet no local mailbox")
	}
	dir := n.srv.Mailbox.Dir
	if logs := n.logs.String(); !strings.Contains(logs, "kept in the local mailbox") || !strings.Contains(logs, dir) {
		t.Fatalf("start-up does not say where mail goes:\n%s", logs)
	}

	person := newPage(t, n.http.URL)
	status, body, _ := person.postForm("/privacy/requests", url.Values{"email": {"alex@example.org"}, "type": {"access"}})
	if status != http.StatusOK || !strings.Contains(body, "<strong>not sent</strong>") || !strings.Contains(body, "local mailbox") ||
		strings.Contains(body, "We sent a message") {
		t.Fatalf("request form answer: %d\n%s", status, body)
	}
	deliver(t, n)
	list, err := notify.ListMailbox(dir)
	if err != nil || len(list) != 1 || list[0].To != "alex@example.org" || !strings.Contains(list[0].Subject, "Please confirm") {
		t.Fatalf("mailbox: %v %+v", err, list)
	}
	// Sent means it is in the mailbox: the row holds no secret any more.
	msgs, _ := n.srv.Store.ListOutbox(ctx, "", 10)
	if len(msgs) != 1 || msgs[0].SentAt.IsZero() || msgs[0].SealedSecrets != nil {
		t.Fatalf("outbox: %+v", msgs)
	}

	// Support reads it in the portal.
	support := signIn(t, n, auth.Support)
	status, body, _ = support.get("/admin/mail")
	if status != http.StatusOK || !strings.Contains(body, `href="/admin/mail"`) || !strings.Contains(body, "alex@example.org") ||
		!strings.Contains(body, "Please confirm") || !strings.Contains(body, "not sent") {
		t.Fatalf("mailbox page: %d\n%s", status, body)
	}
	status, body, _ = support.get("/admin/mail/" + "1")
	link := confirmLinkRE.FindString(strings.ReplaceAll(body, "&amp;", "&"))
	if status != http.StatusOK || link == "" {
		t.Fatalf("message page: %d\n%s", status, body)
	}
	for path, want := range map[string]int{"/admin/mail/99": 404, "/admin/mail/..%2fsecret.key": 400, "/admin/mail/x": 400} {
		if status, _, _ := support.get(path); status != want {
			t.Errorf("%s: %d, want %d", path, status, want)
		}
	}
	// Both views are in the access log, under the person's subject key.
	req, _, _ := n.srv.Rights.List(ctx, store.RequestFilter{Limit: 1})
	entries, err := n.srv.Store.ListAccess(ctx, store.AccessQuery{Dataset: "@mailbox", Limit: 10})
	if err != nil || len(entries) != 2 || entries[0].SubjectKeys[0] != req[0].SubjectKey || entries[0].Actor != "support@staff.example.org" {
		t.Fatalf("access log: %v %+v", err, entries)
	}

	// The status page does not claim the confirmation was e-mailed.
	u, _ := url.Parse(link)
	id := strings.Split(u.Path, "/")[3]
	status, body, _ = person.get("/privacy/requests/" + id + "?token=" + u.Query().Get("token"))
	if status != http.StatusOK || strings.Contains(body, "e-mailed you") || !strings.Contains(body, "no mail server set up") {
		t.Fatalf("status page: %d\n%s", status, body)
	}

	// The link confirms the request.
	if _, err := n.srv.Rights.Confirm(ctx, id, u.Query().Get("token"), u.Query().Get("code")); err != nil {
		t.Fatalf("confirm with the mailbox's link: %v", err)
	}
	// Support's question goes to the mailbox too, and the portal says so.
	_, page, _ := support.get("/admin/requests/" + id)
	if st, _, _ := support.postForm("/admin/requests/"+id+"/take", hidden(page)); st != http.StatusSeeOther {
		t.Fatalf("take: %d", st)
	}
	_, page, _ = support.get("/admin/requests/" + id)
	form := hidden(page)
	form.Set("question", "Which account did you use?")
	st, _, hdr := support.postForm("/admin/requests/"+id+"/ask", form)
	if st != http.StatusSeeOther {
		t.Fatalf("ask: %d", st)
	}
	_, page, _ = support.get(hdr.Get("Location"))
	if !strings.Contains(page, "in the local mailbox, not sent") || strings.Contains(page, "The question was sent") {
		t.Fatalf("the portal's words after asking:\n%s", page)
	}
}

// With an SMTP server, the form says the message was sent and the
// mailbox page says where mail goes.
func TestMailboxWithSMTP(t *testing.T) {
	n, _, _ := requestsNode(t, "")
	if n.srv.Mailbox != nil {
		t.Fatal("a local mailbox although SMTP is configured")
	}
	person := newPage(t, n.http.URL)
	if status, body, _ := person.postForm("/privacy/requests", url.Values{"email": {"sam@example.org"}, "type": {"access"}}); status != 200 ||
		!strings.Contains(body, "We sent a message") || strings.Contains(body, "not sent") {
		t.Fatalf("%d %s", status, body)
	}
	admin := signIn(t, n, auth.Admin)
	if status, body, _ := admin.get("/admin/mail"); status != 200 || !strings.Contains(body, "keeps no local copy") {
		t.Fatalf("%d %s", status, body)
	}
	if status, _, _ := admin.get("/admin/mail/1"); status != 404 {
		t.Fatalf("message page without a mailbox: %d", status)
	}
}

// A new user, as in the README: asks in one Chromium profile, support
// finds the message in the portal's mailbox in another and hands over the
// link, and the person confirms. With STEWARD_SCREENSHOTS set, the pages
// are saved there.
func TestLocalMailboxInChromium(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	base := n.http.URL
	shots := os.Getenv("STEWARD_SCREENSHOTS")
	person, staff := tab{t, chromium(t)}, tab{t, chromium(t)}
	shot := func(b tab, name string) {
		t.Helper()
		if shots == "" {
			return
		}
		b.do(chromedp.EmulateViewport(1280, 800))
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(shots, 0o755)
		os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
	}

	person.fillRequest(base, "alex@example.org", true)
	if st := person.press(`form[action="/privacy/requests"] button[type=submit]`); st != 200 {
		t.Fatalf("submit: %d", st)
	}
	person.shows("after asking", "Your request was received", "not sent", "local mailbox")
	shot(person, "request-kept-in-mailbox")
	deliver(t, n)

	addUser(t, n, "support@staff.example.org", auth.Support)
	staff.open(base + "/admin/mail")
	if st := staff.signIn("support@staff.example.org"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	staff.shows("mailbox", "Local mailbox", "not sent", "alex@example.org", "Please confirm your erasure request")
	shot(staff, "portal-mailbox")
	if st := staff.press(`td a[href="/admin/mail/1"]`); st != 200 {
		t.Fatalf("open message: %d", st)
	}
	text := staff.shows("message", "From", "alex@example.org", "confirm it by opening this link")
	shot(staff, "portal-mail-message")
	link := confirmLinkRE.FindString(text)
	if link == "" {
		t.Fatalf("no confirmation link on the page:\n%s", text)
	}

	// The test server's port is not the configured public URL's.
	u, _ := url.Parse(link)
	if st := person.open(base + u.RequestURI()); st != 200 {
		t.Fatalf("confirmation link: %d", st)
	}
	if st := person.press(`form[action$="/confirm"] button[type=submit]`); st != 200 {
		t.Fatalf("confirm: %d", st)
	}
	person.shows("confirmed", "your request is confirmed")
}
