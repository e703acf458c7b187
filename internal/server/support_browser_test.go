package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// seedRequests stores n requests spread over the twelve weeks before now,
// as a busy support team would have them: most closed, done mostly on
// time, a few late, the recent ones open, some overdue.
func seedRequests(t *testing.T, st store.Store, now time.Time, n int) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	channels := []string{rights.ChannelWeb, rights.ChannelWeb, rights.ChannelWeb, rights.ChannelApp, rights.ChannelApp, rights.ChannelFacebook}
	open := []rights.Status{rights.WaitingForEmail, rights.Received, rights.InProgress, rights.WaitingForUser}
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		for i := range n {
			created := now.Add(-time.Duration(rnd.Int64N(int64(84 * 24 * time.Hour))))
			r := store.Request{ID: fmt.Sprintf("r-seed%012d", i), StatusTokenHash: []byte{1}, Channel: channels[rnd.IntN(len(channels))],
				Type: rights.Erasure, Email: fmt.Sprintf("person%d@example.org", i), SubjectKey: fmt.Sprintf("seed-%d", i), Law: "gdpr",
				DueAt: created.AddDate(0, 1, 0), CreatedAt: created, UpdatedAt: created, Version: 1}
			if i%3 == 1 {
				r.Type = rights.Access
			}
			if i%17 == 0 {
				r.Email = fmt.Sprintf("a.rather.long.address.of.person.number.%d@mail.subdomain.example.org", i)
			}
			age := now.Sub(created)
			took := time.Duration(2+rnd.IntN(20)) * 24 * time.Hour
			if rnd.IntN(12) == 0 {
				took += 20 * 24 * time.Hour // late
			}
			switch {
			case age > took && rnd.IntN(8) == 0:
				r.Status, r.StatusAt, r.RejectReason = string(rights.Rejected), created.Add(took/2), "seeded"
			case age > took && age > 10*24*time.Hour:
				r.Status, r.StatusAt = string(rights.Done), created.Add(took)
			default:
				r.Status, r.StatusAt = string(open[rnd.IntN(len(open))]), created
				if r.Status == string(rights.InProgress) {
					r.Assignee = "support@staff.example.org"
				}
			}
			if err := tx.CreateRequest(context.Background(), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// seedVolume stores thirty days of collection counts.
func seedVolume(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(3, 4))
	var rows []store.CollectionDay
	today := now.UTC().Truncate(24 * time.Hour)
	// Today's counts come from the live events of the test alone.
	for d := 1; d < 30; d++ {
		day := today.AddDate(0, 0, -d)
		base := int64(800 + rnd.IntN(400))
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			base /= 2
		}
		rows = append(rows,
			store.CollectionDay{Day: day, Dataset: "interaction_data", Outcome: "accepted", Count: base},
			store.CollectionDay{Day: day, Dataset: "interaction_data", Outcome: "dropped", Reason: "opt_out", Count: base / 20},
			store.CollectionDay{Day: day, Dataset: "interaction_data", Outcome: "dropped", Reason: "dnt", Count: base / 30},
			store.CollectionDay{Day: day, Dataset: "interaction_data", Outcome: "dropped", Reason: "gpc", Count: base / 60},
			store.CollectionDay{Day: day, Dataset: "interaction_data", Outcome: "rejected", Reason: "invalid", Count: int64(rnd.IntN(5))},
		)
		if d%9 == 0 {
			rows = append(rows, store.CollectionDay{Day: day, Dataset: "interaction_data", Outcome: "dropped", Reason: "erased", Count: 3})
		}
	}
	if err := st.AddCollectionDays(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

// shots saves full-page screenshots when STEWARD_SCREENSHOTS names a
// folder, for a person to look at.
func (b tab) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("STEWARD_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// eval runs a script in the page and returns its value.
func eval[T any](b tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// TestSupportDayInChromium works the portal as support does on a busy day,
// in real Chromium at a laptop's width: counts and filters at the top with
// the table in view, a table that fits without breaking a value, paging,
// the trends charts, and only the actions that can work. An admin then
// reads the collection chart.
func TestSupportDayInChromium(t *testing.T) {
	n, _, _ := requestsNode(t, "")
	ctx := context.Background()
	now := n.clock.Now()
	seedRequests(t, n.srv.Store, now, 600)
	seedVolume(t, n.srv.Store, now)
	// Live collection reaches the chart too, before any flush.
	b := newBrowser(t, n.http.URL)
	if resp, _ := b.post("/v1/collect/interaction_data", sampleEvent, nil); resp.StatusCode != 200 {
		t.Fatalf("collect: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/v1/collect/interaction_data", sampleEvent, map[string]string{"Sec-GPC": "1"}); resp.StatusCode != 200 {
		t.Fatalf("collect with GPC: %d", resp.StatusCode)
	}
	// A Facebook request nobody has confirmed yet, and one for a Facebook
	// user with no account, hence no address: both taken by support.
	fb, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelFacebook, Type: rights.Erasure, FacebookUserID: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelFacebook, Type: rights.Erasure, FacebookUserID: "999999"})
	if err != nil || nobody.Request.Email != "" {
		t.Fatalf("facebook request without an account: %+v %v", nobody.Request, err)
	}
	for _, id := range []string{fb.Request.ID, nobody.Request.ID} {
		if _, err := n.srv.Rights.Take(ctx, id, "support@staff.example.org"); err != nil {
			t.Fatal(err)
		}
	}
	counts, _ := n.srv.Rights.Counts(ctx, 7*24*time.Hour)

	addUser(t, n, "support@staff.example.org", auth.Support)
	s := tab{t, chromium(t)}
	s.do(chromedp.EmulateViewport(1280, 800))
	s.open(n.http.URL + "/admin/requests")
	if st := s.signIn("support@staff.example.org"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	s.shot("support-list")
	s.shows("list", "Data subject requests", fmt.Sprintf("%d All", 602), fmt.Sprintf("%d Overdue", counts.Overdue),
		fmt.Sprintf("%d Due within 7 days", counts.DueSoon), "In progress", "Awaiting confirmation", "page 1 of")
	// The filters leave the table in view, and the table fits the page
	// without breaking a value across lines.
	if top := eval[float64](s, `document.querySelector("table.requests").getBoundingClientRect().top`); top > 400 {
		t.Errorf("the table starts %.0f px down a page 800 px high", top)
	}
	if w := eval[float64](s, `document.querySelector("table.requests").getBoundingClientRect().width`); w > 1280-32 {
		t.Errorf("the table is %.0f px wide in a 1280 px window", w)
	}
	if wrapped := eval[int](s, `[...document.querySelectorAll("table.requests td")].filter(td => td.getClientRects().length && td.scrollHeight > 2 * parseFloat(getComputedStyle(td).lineHeight)).length`); wrapped != 0 {
		t.Errorf("%d cells of the request table wrap onto a second line", wrapped)
	}
	if cut := eval[int](s, `[...document.querySelectorAll("table.requests td.email")].filter(td => td.scrollWidth > td.clientWidth && td.title === "").length`); cut != 0 {
		t.Errorf("%d cut e-mail addresses have no title to read them whole", cut)
	}
	// A count is a filter; the next page keeps it.
	if st := s.press(`ul.tallies li.overdue a`); st != 200 {
		t.Fatalf("overdue: %d", st)
	}
	s.shot("support-list-overdue")
	s.shows("overdue", fmt.Sprintf("%d requests match the filter", counts.Overdue))
	if n := eval[int](s, `document.querySelectorAll("table.requests tr.overdue").length`); n != min(counts.Overdue, 25) {
		t.Errorf("the overdue filter shows %d overdue rows of %d", n, counts.Overdue)
	}
	s.open(n.http.URL + "/admin/requests?status=done")
	if st := s.press(`a[rel=next]`); st != 200 {
		t.Fatalf("next page: %d", st)
	}
	s.shows("page 2", "page 2 of", "Done")
	if got := eval[string](s, `document.getElementById("status").value`); got != "done" {
		t.Errorf("page 2 lost the status filter: %q", got)
	}
	if rows := eval[int](s, `[...document.querySelectorAll("table.requests tr td:nth-child(6)")].filter(td => td.textContent !== "Done").length`); rows != 0 {
		t.Errorf("%d rows on the done filter's page 2 are not done", rows)
	}

	// Trends: two charts of bars, with their numbers.
	s.open(n.http.URL + "/admin/requests/trends")
	s.shot("support-trends")
	s.shows("trends", "Requests per week, by channel", "Days from receipt to completion", "GDPR deadline: one month", "after their deadline")
	if bars := eval[int](s, `document.querySelectorAll("svg.chart rect").length`); bars < 30 {
		t.Errorf("the trends charts draw %d bars", bars)
	}
	if scripts := eval[int](s, `document.scripts.length`); scripts != 0 {
		t.Errorf("the trends page runs %d scripts", scripts)
	}

	// Only actions that can work.
	s.open(n.http.URL + "/admin/requests/" + fb.Request.ID)
	s.shot("support-facebook-unconfirmed")
	page := s.shows("unconfirmed facebook", "Execute is not offered", "has not confirmed the request by e-mail", "Ask the person a question", "Erasure · Facebook · GDPR")
	if strings.Contains(page, "Execute (erasure)") || eval[int](s, `document.querySelectorAll('form[action$="/execute"]').length`) != 0 {
		t.Errorf("an unconfirmed Facebook request offers Execute")
	}
	s.open(n.http.URL + "/admin/requests/" + nobody.Request.ID)
	s.shot("support-facebook-no-address")
	s.shows("no address", "none known", "No question can be sent: there is no e-mail address", "Reject")
	if eval[int](s, `document.querySelectorAll('form[action$="/ask"], form[action$="/execute"]').length`) != 0 {
		t.Errorf("a request without an address offers Ask or Execute")
	}
	// The portal offers nothing the service would refuse.
	if _, err := n.srv.Rights.AskUser(ctx, nobody.Request.ID, "support", "Which account?"); err == nil {
		t.Error("a question without an address was accepted")
	}
	if _, err := n.srv.Rights.Execute(ctx, fb.Request.ID, "support"); err == nil {
		t.Error("an unconfirmed Facebook request was executed")
	}
	// The collection page is not support's.
	if st := s.open(n.http.URL + "/admin/collection"); st != 403 {
		t.Errorf("support opens the collection page: %d", st)
	}

	// An admin reads the collection chart.
	addUser(t, n, "admin@staff.example.org", auth.Admin)
	a := tab{t, chromium(t)}
	a.do(chromedp.EmulateViewport(1280, 800))
	a.open(n.http.URL + "/admin/collection")
	if st := a.signIn("admin@staff.example.org"); st != 200 {
		t.Fatalf("admin sign in: %d", st)
	}
	a.shot("admin-collection")
	a.shows("collection", "interaction_data", "Events per day", "Dropped events per day, by reason", "opt out", "Do Not Track",
		"Global Privacy Control", "request_log", "Nothing was sent to this dataset")
	// Today's bar is the two events posted above, not yet flushed: one
	// accepted, one dropped for GPC.
	today := eval[string](a, `document.querySelector("section.dataset details table tr:last-child").textContent`)
	if today != "22 Nov11" {
		t.Errorf("today's counts: %q", today)
	}
	if bars := eval[int](a, `document.querySelectorAll("section.dataset")[0].querySelectorAll("svg.chart rect").length`); bars < 100 {
		t.Errorf("interaction_data's charts draw %d bars", bars)
	}
}
