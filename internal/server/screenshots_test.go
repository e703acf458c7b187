package server

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
)

// TestScreenshots saves what the main pages look like in Chromium, for a
// person to check the layout after changing it:
//
//	STEWARD_SCREENSHOTS=/tmp/shots go test -run TestScreenshots ./internal/server/
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("STEWARD_SCREENSHOTS")
	if dir == "" {
		t.Skip("set STEWARD_SCREENSHOTS to a directory to save screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n, mail, _ := requestsNode(t, "")
	ctx := context.Background()
	base := n.http.URL

	// A request worked on, so its page has history and steps to show.
	sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Erasure, Email: "alice@example.org", Acknowledged: true})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Request.ID
	deliver(t, n)
	for _, l := range links(mailTo(t, mail, "alice@example.org", "Please confirm")) {
		if u, err := url.Parse(l); err == nil && strings.HasSuffix(u.Path, "/confirm") {
			if _, err := n.srv.Rights.Confirm(ctx, id, u.Query().Get("token"), u.Query().Get("code")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := n.srv.Rights.Take(ctx, id, "support@staff.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.Rights.Execute(ctx, id, "support@staff.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "bob@example.org"}); err != nil {
		t.Fatal(err)
	}

	b := tab{t, chromium(t)}
	b.do(chromedp.EmulateViewport(1280, 800))
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", b.location(), path)
	}
	b.open(base + "/privacy/requests/new")
	shot("request-form")
	b.open(base + "/privacy/requests/" + id + "?token=nope")
	shot("request-bad-link")
	addUser(t, n, "support@staff.example.org", auth.Support)
	b.open(base + "/admin/requests")
	shot("login")
	if st := b.signIn("support@staff.example.org"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	shot("portal-list")
	b.open(base + "/admin/requests/" + id)
	shot("portal-detail")
	b.open(base + "/account")
	shot("account")
}
