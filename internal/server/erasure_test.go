package server

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// confirmAndTake follows the newest confirmation link mailed to addr and
// has support take the request.
func confirmAndTake(t *testing.T, n *node, mailTo func(addr, subject string) string, addr, id string) {
	t.Helper()
	deliver(t, n)
	var confirm string
	for _, l := range links(mailTo(addr, "Please confirm")) {
		if strings.Contains(l, "/confirm?") {
			confirm = l
		}
	}
	b := newBrowser(t, n.http.URL)
	_, form, _ := formOf(t, b, confirm)
	resp, err := b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := n.srv.Rights.Take(context.Background(), id, "support"); err != nil {
		t.Fatal(err)
	}
}

// deactivate runs an erasure for email up to the end of deactivation: the
// request waits for its grace period.
func deactivate(t *testing.T, n *node, mailTo func(addr, subject string) string, email string) string {
	t.Helper()
	ctx := context.Background()
	sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Erasure, Email: email, Acknowledged: true})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Request.ID
	confirmAndTake(t, n, mailTo, email, id)
	r, err := n.srv.Rights.Execute(ctx, id, "support")
	if err != nil || r.Status != string(rights.InProgress) || r.GraceUntil.IsZero() {
		t.Fatalf("execute: %+v %v", r, err)
	}
	return id
}

// purge moves the clock past the grace period and ticks: the erasure
// finishes.
func purge(t *testing.T, n *node, id string) {
	t.Helper()
	ctx := context.Background()
	n.clock.Advance(31 * 24 * time.Hour)
	if err := n.srv.Rights.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.Done) {
		t.Fatalf("after the grace period the request is %s", r.Status)
	}
}

// pageKeys reads the day's newsletter events as support, one page, and
// returns their subject keys.
func pageKeys(t *testing.T, n *node, tok string) []string {
	t.Helper()
	status, page := readEvents(t, n.http.URL, tok, "newsletter_events", dayRange+"&purpose=data_subject_request")
	if status != 200 {
		t.Fatalf("read: %d %v", status, page)
	}
	var keys []string
	for _, e := range page["events"].([]any) {
		keys = append(keys, e.(map[string]any)["subject_key"].(string))
	}
	return keys
}

// streamKeys reads the day's newsletter events as one NDJSON stream.
func streamKeys(t *testing.T, n *node, tok string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", n.http.URL+"/v1/datasets/newsletter_events/events?"+dayRange+"&purpose=data_subject_request", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var keys []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var e struct {
			SubjectKey string `json:"subject_key"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stream line %q: %v", sc.Text(), err)
		}
		keys = append(keys, e.SubjectKey)
	}
	return keys
}

// collectBatch posts one batch of newsletter events, one per address.
func collectBatch(t *testing.T, n *node, addrs ...string) map[string]any {
	t.Helper()
	var evs []string
	for _, a := range addrs {
		evs = append(evs, fmt.Sprintf(`{"email":%q,"action":"click"}`, a))
	}
	resp, body := newBrowser(t, n.http.URL).post("/v1/collect/newsletter_events", `{"events":[`+strings.Join(evs, ",")+`]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("collect %v: %d %v", addrs, resp.StatusCode, body)
	}
	return body
}

// metric returns the value of one series on /metrics ("" when absent).
func metric(t *testing.T, n *node, series string) string {
	t.Helper()
	resp, err := http.Get(n.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func keysOf(evs []store.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.SubjectKey)
	}
	return out
}

func count(keys []string, key string) int {
	n := 0
	for _, k := range keys {
		if k == key {
			n++
		}
	}
	return n
}

// From the moment an erasure deactivates, the subject's events are gone
// from every read: pages, the NDJSON stream, lookup and an access export;
// other subjects' are not. After the grace period the purge deletes them.
func TestErasureHidesEventsAtDeactivation(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n, _, mailTo := newsletterNode(t, dsn(t))
			ctx := context.Background()
			collectAs(t, n, "Dave@Example.org", "dave@example.org", "erin@example.org")
			dave, erin := n.srv.Keyer.Hash("subject", "dave@example.org"), n.srv.Keyer.Hash("subject", "erin@example.org")
			support := token(t, n, auth.Support)
			if got := pageKeys(t, n, support); len(got) != 3 || count(got, dave) != 2 {
				t.Fatalf("page before erasure: %v", got)
			}
			if got := streamKeys(t, n, support); len(got) != 3 {
				t.Fatalf("stream before erasure: %v", got)
			}
			if got := lookup(t, n, support, "dave@example.org"); len(got) != 2 {
				t.Fatalf("lookup before erasure: %v", got)
			}

			id := deactivate(t, n, mailTo, "dave@example.org")

			// Every read path at once, with nothing else run in between.
			if got := pageKeys(t, n, support); len(got) != 1 || got[0] != erin {
				t.Fatalf("page during the grace period: %v", got)
			}
			if got := streamKeys(t, n, support); len(got) != 1 || got[0] != erin {
				t.Fatalf("stream during the grace period: %v", got)
			}
			if got := lookup(t, n, support, "Dave@Example.org"); len(got) != 0 {
				t.Fatalf("lookup during the grace period: %v", got)
			}
			if got := lookup(t, n, support, "erin@example.org"); len(got) != 1 {
				t.Fatalf("erin's lookup during the grace period: %v", got)
			}
			// Dave asks for a copy of his data meanwhile: the archive has
			// nothing of steward's events.
			acc, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "dave@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			confirmAndTake(t, n, mailTo, "dave@example.org", acc.Request.ID)
			r, err := n.srv.Rights.Execute(ctx, acc.Request.ID, "support")
			if err != nil || r.Status != string(rights.Done) || r.ExportPath == "" {
				t.Fatalf("access: %+v %v", r, err)
			}
			zr, err := zip.OpenReader(r.ExportPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				if strings.HasPrefix(f.Name, "steward-events") {
					t.Errorf("the access archive during the grace period holds %s", f.Name)
				}
				if f.Name == "data.json" {
					rc, _ := f.Open()
					b, _ := io.ReadAll(rc)
					rc.Close()
					if strings.Contains(string(b), dave) || strings.Contains(string(b), "newsletter_events") {
						t.Errorf("data.json during the grace period: %s", b)
					}
				}
			}
			zr.Close()

			// The grace period ends: the purge deletes what was hidden.
			purge(t, n, id)
			steps, _ := n.srv.Store.RequestSteps(ctx, id)
			for _, s := range steps {
				if s.Connector == "steward-events" && s.Phase == rights.PhasePurge && s.Count != 2 {
					t.Fatalf("purged %d events, want 2", s.Count)
				}
			}
			if left := keysOf(newsletterEvents(t, n)); len(left) != 1 || left[0] != erin {
				t.Fatalf("stored after the purge: %v", left)
			}
			if got := pageKeys(t, n, support); len(got) != 1 || got[0] != erin {
				t.Fatalf("page after the purge: %v", got)
			}
		})
	}
}

// An erased subject's new events are answered 2xx (so clients stop
// retrying), dropped as erased and counted; nobody else's are dropped.
// The key is suppressed from deactivation on, not only after the purge.
func TestErasedSubjectIsNotCollected(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n, _, mailTo := newsletterNode(t, dsn(t))
			collectAs(t, n, "dave@example.org")
			dave := n.srv.Keyer.Hash("subject", "dave@example.org")
			id := deactivate(t, n, mailTo, "dave@example.org")

			body := collectBatch(t, n, "Dave@Example.org", "erin@example.org")
			if body["accepted"] != 1.0 || body["dropped"] != 1.0 || fmt.Sprint(body["dropped_reasons"]) != "map[erased:1]" {
				t.Fatalf("during the grace period: %v", body)
			}
			purge(t, n, id)
			body = collectBatch(t, n, "dave@example.org", "frank@example.org", " DAVE@example.org")
			if body["accepted"] != 1.0 || body["dropped"] != 2.0 || fmt.Sprint(body["dropped_reasons"]) != "map[erased:2]" {
				t.Fatalf("after the purge: %v", body)
			}
			if keys := keysOf(newsletterEvents(t, n)); len(keys) != 2 || count(keys, dave) != 0 {
				t.Fatalf("stored: %v", keys)
			}
			if got := metric(t, n, `steward_collect_events_total{dataset="newsletter_events",outcome="dropped",reason="erased"}`); got != "3" {
				t.Fatalf("erased drops counted: %q", got)
			}
			// The list holds keys, never the identifier.
			if strings.Contains(strings.ToLower(n.logs.String()), "dave@") {
				t.Fatal("the log names the erased address")
			}
		})
	}
}

// A second node sharing the PostgreSQL database drops the erased subject's
// events within the suppression list's poll; what it stored before that is
// hidden and purged with the rest.
func TestErasureSuppressedOnEveryNode(t *testing.T) {
	dsn := pgSchema(t)
	a, _, mailTo := newsletterNode(t, dsn)
	cfg := testConfig(t, dsn)
	cfg.Registry, cfg.Policy = a.srv.Config.Registry, a.srv.Config.Policy
	b := startNode(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// Node b's poll, as Start runs it (not all of Start: b's outbox worker
	// would claim node a's mail).
	go b.srv.Erased.Watch(ctx, b.srv.Config.ErasurePoll)
	dave := a.srv.Keyer.Hash("subject", "dave@example.org")
	if body := collectBatch(t, b, "dave@example.org"); body["accepted"] != 1.0 {
		t.Fatalf("before erasure: %v", body)
	}

	id := deactivate(t, a, mailTo, "dave@example.org")
	deactivated := time.Now()
	deadline := deactivated.Add(5 * b.srv.Config.ErasurePoll)
	slipped := 0
	for {
		body := collectBatch(t, b, "dave@example.org")
		if fmt.Sprint(body["dropped_reasons"]) == "map[erased:1]" {
			break
		}
		slipped++
		if time.Now().After(deadline) {
			t.Fatalf("node b still stores the erased subject's events %s after deactivation", time.Since(deactivated))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("node b dropped the erased subject's events %s after deactivation on node a (poll every %s; %d stored meanwhile)",
		time.Since(deactivated).Round(time.Millisecond), b.srv.Config.ErasurePoll, slipped)
	support := token(t, b, auth.Support)
	if got := pageKeys(t, b, support); count(got, dave) != 0 {
		t.Fatalf("node b reads the deactivated subject: %v", got)
	}
	purge(t, a, id)
	if keys := keysOf(newsletterEvents(t, a)); count(keys, dave) != 0 {
		t.Fatalf("stored after the purge: %v", keys)
	}
	if body := collectBatch(t, b, "dave@example.org"); fmt.Sprint(body["dropped_reasons"]) != "map[erased:1]" {
		t.Fatalf("node b after the purge: %v", body)
	}
}

// suppressRegistry declares how long each dataset refuses an erased
// subject: 10 days for newsletter_events, and the default (its 20-day
// retention) for newsletter_clicks.
var suppressRegistry = strings.Replace(newsletterRegistry, "    retention: 365d\n", "    retention: 365d\n    suppress_erased: 10d\n", 1) + `  newsletter_clicks:
    description: Links a subscriber followed.
    purpose: customer_support
    lawful_basis: contract
    retention: 20d
    owner: support@example.org
    expires: never
    subject: {field: email, kind: direct, identifier: email}
    fields:
      email: {type: string, max_length: 254, category: 2, description: The subscriber., minimise: {hash: true}}
      link:  {type: string, max_length: 100, category: 1, description: The link followed.}
`

// Suppression ends per dataset: suppress_erased after the purge, or the
// dataset's retention when it sets none.
func TestErasureSuppressionExpires(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			reg, pol := filepath.Join(dir, "registry.yaml"), filepath.Join(dir, "policy.yaml")
			os.WriteFile(reg, []byte(suppressRegistry), 0o600)
			os.WriteFile(pol, []byte(newsletterPolicy), 0o600)
			n, mail, _ := requestsNodeWith(t, dsn(t), func(cfg *config.Config) { cfg.Registry, cfg.Policy = reg, pol })
			mails := func(addr, subj string) string { return mailTo(t, mail, addr, subj) }
			collectAs(t, n, "dave@example.org")
			purge(t, n, deactivate(t, n, mails, "dave@example.org"))
			br := newBrowser(t, n.http.URL)
			outcome := func() string {
				t.Helper()
				var got []string
				for _, c := range []struct{ path, body string }{
					{"/v1/collect/newsletter_events", `{"email":"dave@example.org","action":"open"}`},
					{"/v1/collect/newsletter_clicks", `{"email":"dave@example.org","link":"/a"}`},
				} {
					resp, body := br.post(c.path, c.body, nil)
					if resp.StatusCode != 200 {
						t.Fatalf("%s: %d %v", c.path, resp.StatusCode, body)
					}
					got = append(got, fmt.Sprintf("%v/%v", body["accepted"], body["dropped_reasons"]))
				}
				return strings.Join(got, " ")
			}
			for _, step := range []struct {
				advance time.Duration
				want    string
			}{
				{0, "0/map[erased:1] 0/map[erased:1]"},
				{9 * 24 * time.Hour, "0/map[erased:1] 0/map[erased:1]"},
				{2 * 24 * time.Hour, "1/<nil> 0/map[erased:1]"}, // 11 days after the purge
				{10 * 24 * time.Hour, "1/<nil> 1/<nil>"},        // 21 days
			} {
				n.clock.Advance(step.advance)
				if got := outcome(); got != step.want {
					t.Fatalf("%s after the purge: %s, want %s", n.clock.Now().Sub(testNow.Add(31*24*time.Hour)), got, step.want)
				}
			}
		})
	}
}
