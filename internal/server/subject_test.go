package server

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/connectors"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
)

// newsletterRegistry has a subject identified by e-mail address, declared
// as such, and stored only as its keyed hash. Retention is long so only
// erasure can remove events in these tests.
const newsletterRegistry = `controller: {name: Test Ltd, contact: privacy@example.org}
datasets:
  newsletter_events:
    description: What a subscriber did with the newsletter, for support.
    purpose: customer_support
    lawful_basis: contract
    retention: 365d
    owner: support@example.org
    expires: never
    subject: {field: email, kind: direct, identifier: email}
    fields:
      email:  {type: string, max_length: 254, category: 2, description: The subscriber., minimise: {hash: true}}
      action: {type: enum, values: [open, click, unsubscribe], category: 2, description: What they did.}
  sampled_clicks:
    description: A sample of anonymous clicks.
    purpose: product_improvement
    lawful_basis: legitimate_interest
    retention: 30d
    owner: kpi-team@example.org
    expires: never
    sample_rate: 0.5
    fields:
      n: {type: integer, category: 1, description: Position in the batch.}
`

const newsletterPolicy = `datasets:
  newsletter_events:
    - {role: support, purposes: [data_subject_request], max_category: 2, lookup: true}
`

// newsletterNode is a requests node (identity database, webhook, mail)
// collecting newsletter_events; Dave's account in the application's
// database is spelt with capitals.
func newsletterNode(t *testing.T, dsn string) (*node, *appFixture, func(addr, subject string) string) {
	dir := t.TempDir()
	reg, pol := filepath.Join(dir, "registry.yaml"), filepath.Join(dir, "policy.yaml")
	os.WriteFile(reg, []byte(newsletterRegistry), 0o600)
	os.WriteFile(pol, []byte(newsletterPolicy), 0o600)
	n, mail, app := requestsNodeWith(t, dsn, func(cfg *config.Config) { cfg.Registry, cfg.Policy = reg, pol })
	db, err := sql.Open("sqlite", app.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO users VALUES ('u4', 'Dave@Example.org', 'Dave', '1004', 1)"); err != nil {
		t.Fatal(err)
	}
	return n, app, func(addr, subj string) string { return mailTo(t, mail, addr, subj) }
}

// collectAs posts one newsletter event per address through the browser
// collection endpoint.
func collectAs(t *testing.T, n *node, addrs ...string) {
	t.Helper()
	b := newBrowser(t, n.http.URL)
	for _, a := range addrs {
		ev := fmt.Sprintf(`{"email":%q,"action":"open"}`, a)
		if resp, body := b.post("/v1/collect/newsletter_events", ev, nil); resp.StatusCode != 200 || body["accepted"] != 1.0 {
			t.Fatalf("collect %q: %d %v", a, resp.StatusCode, body)
		}
	}
}

// lookup asks for one subject's newsletter events as support and returns
// their subject keys.
func lookup(t *testing.T, n *node, tok, identifier string) []string {
	t.Helper()
	body := fmt.Sprintf(`{"subject":%q,"from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z","purpose":"data_subject_request"}`, identifier)
	status, page, _ := do(t, "POST", n.http.URL+"/v1/datasets/newsletter_events/lookup", tok, body, nil)
	if status != 200 {
		t.Fatalf("lookup %q: %d %v", identifier, status, page)
	}
	var keys []string
	for _, e := range page["events"].([]any) {
		keys = append(keys, e.(map[string]any)["subject_key"].(string))
	}
	return keys
}

func newsletterEvents(t *testing.T, n *node) []store.Event {
	t.Helper()
	evs, err := n.srv.Store.ListEvents(context.Background(), store.EventQuery{Dataset: "newsletter_events", To: testNow.Add(400 * 24 * time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Dave's address spelt two ways is one subject: collected through HTTP
// under one key, and one erasure request, through the whole request path,
// removes both events and nobody else's.
func TestEmailSubjectOneKeyOneErasure(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n, app, mailTo := newsletterNode(t, dsn(t))
			ctx := context.Background()
			collectAs(t, n, "Dave@Example.org", " dave@example.org", "erin@example.org")

			// An already normalised address keeps the key it always had.
			dave := n.srv.Keyer.Hash("subject", "dave@example.org")
			evs := newsletterEvents(t, n)
			if len(evs) != 3 || evs[0].SubjectKey != dave || evs[1].SubjectKey != dave || evs[2].SubjectKey == dave {
				t.Fatalf("stored keys: %+v", evs)
			}
			// The hashed field equals the key, so a dump matches by key too.
			if !strings.Contains(string(evs[0].Data), dave) || strings.Contains(strings.ToLower(string(evs[0].Data)), "dave@") {
				t.Fatalf("stored data: %s", evs[0].Data)
			}
			support := token(t, n, auth.Support)
			if got := lookup(t, n, support, "DAVE@example.org "); len(got) != 2 {
				t.Fatalf("lookup found %d events", len(got))
			}

			// Dave asks, spelling his address as he likes; the request
			// resolves his account (spelt otherwise in the application).
			sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Erasure, Email: "DAVE@Example.ORG", Acknowledged: true})
			if err != nil {
				t.Fatal(err)
			}
			id := sub.Request.ID
			deliver(t, n)
			b := newBrowser(t, n.http.URL)
			var confirm string
			for _, l := range links(mailTo("dave@example.org", "Please confirm")) {
				if strings.Contains(l, "/confirm?") {
					confirm = l
				}
			}
			_, form, _ := formOf(t, b, confirm)
			resp, err := b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if _, err := n.srv.Rights.Take(ctx, id, "support"); err != nil {
				t.Fatal(err)
			}
			if r, err := n.srv.Rights.Execute(ctx, id, "support"); err != nil || r.AccountID != "u4" {
				t.Fatalf("execute: %+v %v", r, err)
			}
			n.clock.Advance(31 * 24 * time.Hour)
			if err := n.srv.Rights.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			r, _ := n.srv.Store.GetRequest(ctx, id)
			steps, _ := n.srv.Store.RequestSteps(ctx, id)
			purged := int64(-1)
			for _, s := range steps {
				if s.Connector == "steward-events" && s.Phase == rights.PhasePurge {
					purged = s.Count
				}
			}
			if r.Status != string(rights.Done) || purged != 2 {
				t.Fatalf("request %s, steward-events purged %d", r.Status, purged)
			}
			if left := newsletterEvents(t, n); len(left) != 1 || left[0].SubjectKey == dave {
				t.Fatalf("events after erasure: %+v", left)
			}
			if got := lookup(t, n, support, "Dave@Example.org"); len(got) != 0 {
				t.Fatalf("lookup after erasure found %d events", len(got))
			}
			app.mu.Lock()
			defer app.mu.Unlock()
			if len(app.calls) == 0 || app.calls[0]["subject"].(map[string]any)["email"] != "dave@example.org" {
				t.Fatalf("webhook calls: %v", app.calls)
			}
		})
	}
}

// An event stored before normalisation, under the key of "Dave@Example.org"
// as given, is still found by a lookup and the access log for that
// spelling, and erased by the events connector given it.
func TestEmailSubjectKeyFromBeforeNormalisation(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n, _, _ := newsletterNode(t, dsn(t))
			ctx := context.Background()
			keyer := n.srv.Keyer
			legacy := keyer.Hash("subject", "Dave@Example.org") // what collection stored before
			// Stored between the two collected events, so the merged pages
			// must interleave by Seq.
			collectAs(t, n, "dave@example.org")
			if _, err := n.srv.Store.InsertEvents(ctx, []store.Event{{Dataset: "newsletter_events", ReceivedAt: testNow,
				SubjectKey: legacy, Data: []byte(`{"action":"click","email":"` + legacy + `"}`)}}); err != nil {
				t.Fatal(err)
			}
			collectAs(t, n, "Dave@Example.org", "erin@example.org")
			dave := subject.Key(keyer, subject.Email, "Dave@Example.org")
			if dave == legacy {
				t.Fatal("the legacy key is the normalised one")
			}

			support := token(t, n, auth.Support)
			if got := strings.Join(lookup(t, n, support, "Dave@Example.org"), " "); got != strings.Join([]string{dave, legacy, dave}, " ") {
				t.Fatalf("lookup by the old spelling: %s", got)
			}
			// Paged one at a time, the cursor walks across both keys.
			var paged []string
			cursor := ""
			for range 5 {
				body := `{"subject":"Dave@Example.org","from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z","limit":1,"purpose":"data_subject_request"` + cursor + `}`
				status, page, _ := do(t, "POST", n.http.URL+"/v1/datasets/newsletter_events/lookup", support, body, nil)
				if status != 200 {
					t.Fatalf("paged lookup: %d %v", status, page)
				}
				for _, e := range page["events"].([]any) {
					paged = append(paged, e.(map[string]any)["subject_key"].(string))
				}
				next, _ := page["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = fmt.Sprintf(`,"cursor":%q`, next)
			}
			if len(paged) != 3 || paged[1] != legacy {
				t.Fatalf("paged lookup: %v", paged)
			}
			// The normalised spelling cannot know the old one: it finds
			// only what was stored under the normalised key.
			if got := lookup(t, n, support, "dave@example.org"); len(got) != 2 {
				t.Fatalf("lookup by the normalised spelling: %d", len(got))
			}

			// The auditor finds all six lookups above by the identifier,
			// with or without the dataset.
			auditor := token(t, n, auth.Auditor)
			for _, q := range []url.Values{
				{"subject": {"Dave@Example.org"}, "dataset": {"newsletter_events"}},
				{"subject": {"Dave@Example.org"}},
			} {
				_, log, _ := do(t, "GET", n.http.URL+"/v1/access-log?"+q.Encode(), auditor, "", nil)
				if entries, _ := log["entries"].([]any); len(entries) != 6 {
					t.Fatalf("access log ?%s: %d entries: %v", q.Encode(), len(entries), log)
				}
			}

			events := &connectors.Events{Store: n.srv.Store, Keyer: keyer, Registry: n.srv.Registry}
			res, err := events.Purge(ctx, rights.Subject{Email: "Dave@Example.org"})
			if err != nil || res.Count != 3 {
				t.Fatalf("purge: %+v %v", res, err)
			}
			if got := lookup(t, n, support, "Dave@Example.org"); len(got) != 0 {
				t.Fatalf("lookup after erasure: %d", len(got))
			}
			if left := newsletterEvents(t, n); len(left) != 1 {
				t.Fatalf("events after erasure: %+v", left)
			}
		})
	}
}

// Events with neither subject nor id are sampled by the receive time from
// the injected clock and their place in the request: the same batch at the
// same (fake) time keeps the same events, a batch's events are decided
// one by one, and another time decides afresh.
func TestSamplingReadsTheClock(t *testing.T) {
	n, _, _ := newsletterNode(t, "")
	ctx := context.Background()
	b := newBrowser(t, n.http.URL)
	var sb strings.Builder
	sb.WriteString(`{"events":[`)
	for i := range 100 { // the most one request may carry
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"n":%d}`, i)
	}
	sb.WriteString("]}")
	var after int64
	kept := func() string {
		t.Helper()
		resp, body := b.post("/v1/collect/sampled_clicks", sb.String(), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("collect: %d %v", resp.StatusCode, body)
		}
		evs, err := n.srv.Store.ListEvents(ctx, store.EventQuery{Dataset: "sampled_clicks", AfterSeq: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 || len(evs) == 100 || body["accepted"] != float64(len(evs)) {
			t.Fatalf("kept %d of 100 at rate 0.5: %v", len(evs), body)
		}
		var ns []string
		for _, e := range evs {
			ns = append(ns, string(e.Data))
		}
		after = evs[len(evs)-1].Seq
		return strings.Join(ns, " ")
	}
	first := kept()
	if again := kept(); again != first {
		t.Fatalf("the same batch at the same time was sampled differently:\n%s\n%s", first, again)
	}
	n.clock.Advance(time.Second)
	if later := kept(); later == first {
		t.Fatal("a second later the same events were kept")
	}
}
