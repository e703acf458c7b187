package server

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
)

// withReferringSite is seed 001's example event with the category-3
// field the review adds.
var withReferringSite = strings.Replace(sampleEvent, `"language": "en_US",`, `"language": "en_US", "referring_site": "news.example.com",`, 1)

// signOut presses the header's sign-out button.
func (b tab) signOut() {
	b.t.Helper()
	if st := b.press(`form[action="/logout"] button[type=submit]`); st != 200 {
		b.t.Fatalf("sign out: %d", st)
	}
}

// fill sets form fields by id, as typing them would.
func (b tab) fill(values map[string]string) {
	b.t.Helper()
	for id, v := range values {
		b.do(chromedp.SetValue(chromedp.ID(id), v))
	}
}

// TestReviewInChromium is the data collection review's whole path in real
// Chromium: an analyst uploads a registry that adds a category-3 field,
// answers the review request and submits it; privacy/technical,
// legal/trust and security reviewers each sign in and approve with the
// checklist; from that moment the field is collected, and not before.
func TestReviewInChromium(t *testing.T) {
	started := time.Now()
	b := tab{t, chromium(t)}
	b.do(chromedp.EmulateViewport(1280, 900))
	shot := screenshots(t, b)
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	base := n.http.URL
	const (
		analyst  = "analyst@staff.example.org"
		privacy  = "privacy@staff.example.org"
		legal    = "legal@staff.example.org"
		security = "security@staff.example.org"
	)
	addUser(t, n, analyst, auth.Analyst)
	addUser(t, n, privacy, auth.PrivacyReviewer)
	addUser(t, n, legal, auth.LegalReviewer)
	addUser(t, n, security, auth.SecurityReviewer)

	// Before any review the field is refused at collection.
	collector := newBrowser(t, base)
	if resp, body := collector.post("/v1/collect/interaction_data", withReferringSite, nil); resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("an unreviewed field was collected: %d %v", resp.StatusCode, body)
	}

	// 1. The analyst signs in from the list and uploads the file.
	file := filepath.Join(t.TempDir(), "referring-site.yaml")
	if err := os.WriteFile(file, []byte(withWebActivity(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open(base + "/admin/reviews")
	if st := b.signIn(analyst); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	b.shows("list", "Data collection reviews", "No proposal matches.", "Expiring soon")
	if st := b.press(`a[href="/admin/reviews/new"]`); st != 200 {
		t.Fatalf("new: %d", st)
	}
	b.do(chromedp.WaitVisible(chromedp.ID("title")), chromedp.SendKeys(chromedp.ID("title"), "Where failed sign-ins come from"),
		chromedp.SendKeys(chromedp.ID("links"), "https://tickets.example.org/SIGNIN-42"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	if st := b.press(`form[action="/admin/reviews"] button[type=submit]`); st != 200 {
		t.Fatalf("propose: %d", st)
	}
	b.shows("draft", "The proposal is stored as a draft", "Proposal 1: Where failed sign-ins come from", "new field",
		"interaction_data.referring_site", "3 (web_activity)", "Answer these questions first", "referring-site.yaml")
	proposal := b.location()
	if u, _ := url.Parse(proposal); u.Path != "/admin/reviews/1" {
		t.Fatalf("after proposing: at %s", proposal)
	}
	proposal = base + "/admin/reviews/1"
	shot("review-draft", "")

	// 2. The analyst answers the questions the registry cannot answer, and
	// submits.
	answers := map[string]string{}
	for k, v := range reviewAnswers {
		answers["answer-"+k] = v
	}
	b.fill(answers)
	if st := b.press(`form[action$="/answers"] button[type=submit]`); st != 200 {
		t.Fatalf("answers: %d", st)
	}
	b.shows("answered", "Your answers were saved", "Every question of the review request is answered.")
	if st := b.press(`form[action$="/submit"] button[type=submit]`); st != 200 {
		t.Fatalf("submit: %d", st)
	}
	page := b.shows("submitted", "Submitted for review", "in_review")
	if strings.Contains(page, "Your review as") {
		t.Fatal("the proposer is offered the reviewer's form")
	}
	// Submitted, the field is still refused.
	if resp, _ := collector.post("/v1/collect/interaction_data", withReferringSite, nil); resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("a field in review was collected: %d", resp.StatusCode)
	}
	b.signOut()

	// 3. Each reviewer signs in, finds it waiting and approves with the
	// checklist, privacy/technical review first.
	for i, who := range []struct{ login, title string }{
		{privacy, "privacy/technical review"}, {legal, "legal/trust review"}, {security, "security review"},
	} {
		b.open(base + "/admin/reviews?waiting=1")
		if st := b.signIn(who.login); st != 200 {
			t.Fatalf("%s signs in: %d", who.login, st)
		}
		b.shows(who.login+"'s list", "waiting on you", "Where failed sign-ins come from")
		if st := b.press(`a[href="/admin/reviews/1"]`); st != 200 {
			t.Fatalf("%s opens it: %d", who.login, st)
		}
		b.shows(who.login+" reads", "This proposal waits for your sign-off as "+who.title, "Your review as "+who.title,
			"Where do people who fail to sign in come from?", "The highest category among the changes is 3 (web_activity)")
		if who.login == security {
			shot("review-reviewer", "")
		}
		check := map[string]string{}
		for _, c := range review.Checklist {
			check["check-"+c.Key] = "Yes, see the request document."
		}
		check["check-category"] = "3 (web activity): the domain of the referring site only."
		check["check-default"] = "Default on, under the opt-outs listed in question 9."
		b.fill(check)
		b.do(chromedp.Click(chromedp.ID("decision-approve")))
		if st := b.press(`form[action$="/signoff"] button[type=submit]`); st != 200 {
			t.Fatalf("%s approves: %d", who.login, st)
		}
		if i < 2 {
			b.shows(who.login+" approved", "Your answer was recorded", who.login)
			// Not published before the last sign-off.
			if resp, _ := collector.post("/v1/collect/interaction_data", withReferringSite, nil); resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("collected after %d of 3 sign-offs: %d", i+1, resp.StatusCode)
			}
		}
		b.signOut()
	}
	b.open(proposal)
	if st := b.signIn(analyst); st != 200 {
		t.Fatalf("the analyst signs in again: %d", st)
	}
	page = b.shows("approved", "approved since", "published as registry version 2", privacy, legal, security)
	if strings.Contains(page, "Submit for review") || strings.Contains(page, "Withdraw the proposal") {
		t.Fatalf("an approved proposal still offers actions:\n%s", page)
	}

	// 4. The field is collected now, and reads back.
	resp, body := collector.post("/v1/collect/interaction_data", withReferringSite, nil)
	if resp.StatusCode != 200 || body["accepted"] != 1.0 {
		t.Fatalf("collect after approval: %d %v", resp.StatusCode, body)
	}
	// The read policy grants no purpose the new field yet, so the store
	// itself shows it arrived.
	stored, err := n.srv.Store.ListEvents(ctx, store.EventQuery{Dataset: "interaction_data", From: testNow.Add(-time.Hour), To: testNow.Add(time.Hour), Limit: 10})
	if err != nil || len(stored) != 1 || !strings.Contains(string(stored[0].Data), `"referring_site":"news.example.com"`) {
		t.Fatalf("stored after approval: %v %v", stored, err)
	}
	if v, err := n.srv.Store.GetRegistryVersion(ctx, 2); err != nil || v.Proposal != 1 {
		t.Fatalf("registry version 2: %+v %v", v, err)
	}
	shot("review-proposal", "")
	shot("review-document", "article.doc")
	b.open(base + "/admin/reviews")
	shot("review-list", "")
	b.do(chromedp.EmulateViewport(390, 844))
	shot("review-list-phone", "")
	b.open(proposal)
	shot("review-proposal-phone", "")
	t.Logf("walked through in %s", time.Since(started).Round(time.Millisecond))
}

// screenshots returns a function that saves what the tab shows (the
// whole page, or the element sel) when STEWARD_SCREENSHOTS names a
// directory, for a person to look at:
//
//	STEWARD_SCREENSHOTS=/tmp/shots go test -run TestReviewInChromium ./internal/server/
func screenshots(t *testing.T, b tab) func(name, sel string) {
	dir := os.Getenv("STEWARD_SCREENSHOTS")
	if dir == "" {
		return func(string, string) {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return func(name, sel string) {
		t.Helper()
		var png []byte
		var err error
		if sel == "" {
			png, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		} else {
			png, err = chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", b.location(), path)
	}
}
