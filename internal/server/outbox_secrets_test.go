package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"mime/quotedprintable"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// TestNoRequestSecretInTheDatabase runs every kind of request through the
// HTTP server with a real SMTP peer, collects each status token and
// confirmation code the flows produced, then searches the whole database
// for them: the SQLite files byte by byte (the -wal file included), or
// every row of every PostgreSQL table as text. A copy of the database must
// not be enough to confirm someone's request or open their status page
// and export. Mail that was delivered, mail that was given up and mail
// still waiting are all covered.
func TestNoRequestSecretInTheDatabase(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			db := dsn(t)
			n, mail, _ := requestsNode(t, db)
			ctx := context.Background()
			secrets := map[string]string{} // value → where it was seen
			collect := func(from, text string) {
				for _, l := range links(text) {
					u, err := url.Parse(l)
					if err != nil {
						continue
					}
					for _, p := range []string{"token", "code"} {
						if v := u.Query().Get(p); v != "" {
							secrets[v] = from + " " + p
						}
					}
				}
			}
			// confirm follows the confirmation link in the latest mail to
			// addr and presses its button, as the person would.
			b := newBrowser(t, n.http.URL)
			confirm := func(addr, id string) {
				t.Helper()
				for _, l := range links(mailTo(t, mail, addr, "Please confirm")) {
					if strings.Contains(l, "/confirm?") {
						_, form, _ := formOf(t, b, l)
						resp, err := b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", form)
						if err != nil || resp.StatusCode != 200 {
							t.Fatalf("confirm %s: %v %v", id, resp.StatusCode, err)
						}
						resp.Body.Close()
						return
					}
				}
				t.Fatalf("no confirmation link for %s", addr)
			}
			support := signIn(t, n, auth.Support)
			act := func(id, action string, fields url.Values) {
				t.Helper()
				_, page, _ := support.get("/admin/requests/" + id)
				form := hidden(page)
				for k, v := range fields {
					form[k] = v
				}
				if st, body, _ := postWith(t, support.c, n.http.URL+"/admin/requests/"+id+"/"+action, form,
					map[string]string{"Origin": n.http.URL, "Sec-Fetch-Site": "same-origin"}); st != 303 {
					t.Fatalf("%s %s: %d %s", action, id, st, body)
				}
			}
			app := token(t, n, auth.App)
			appRequest := func(body string) (string, string) {
				t.Helper()
				st, out, _ := do(t, "POST", n.http.URL+"/v1/requests", app, body, nil)
				if st != 201 {
					t.Fatalf("app request: %d %v", st, out)
				}
				id, _ := out["id"].(string)
				status, _ := out["status_url"].(string)
				collect("app answer", status)
				return id, status
			}

			// Alice asks for erasure on the web form; support extends the
			// deadline, executes, and the grace period ends.
			resp, err := b.c.PostForm(n.http.URL+"/privacy/requests", url.Values{"email": {"alice@example.org"}, "type": {"erasure"}, "acknowledge": {"yes"}})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("form: %v %v", resp.StatusCode, err)
			}
			resp.Body.Close()
			list, _, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Search: "alice@example.org", Limit: 1})
			alice := list[0].ID
			deliver(t, n)
			confirm("alice@example.org", alice)
			act(alice, "take", nil)
			act(alice, "extend", url.Values{"reason": {"three systems to search"}})
			act(alice, "execute", nil)

			// Bob's erasure arrives from Facebook; he confirms by e-mail.
			resp, err = b.c.PostForm(n.http.URL+"/callbacks/facebook/data-deletion", url.Values{"signed_request": {
				rights.SignRequest(map[string]any{"algorithm": "HMAC-SHA256", "issued_at": testNow.Unix(), "user_id": "1002"}, "fb-secret")}})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("facebook: %v %v", resp.StatusCode, err)
			}
			var fb bytes.Buffer
			fb.ReadFrom(resp.Body)
			resp.Body.Close()
			collect("facebook answer", strings.NewReplacer(`\u0026`, "&", `"`, " ").Replace(fb.String()))
			list, _, _ = n.srv.Store.ListRequests(ctx, store.RequestFilter{Search: "bob@example.org", Limit: 1})
			bob := list[0].ID
			deliver(t, n)
			confirm("bob@example.org", bob)

			// Carol asks for a copy through the app; support asks her a
			// question, she answers, the export is made and downloaded.
			carol, carolStatus := appRequest(`{"type":"access","email":"carol@example.org","app_user_id":"u3"}`)
			deliver(t, n)
			confirm("carol@example.org", carol)
			act(carol, "take", nil)
			act(carol, "ask", url.Values{"question": {"Which app account did you use?"}})
			deliver(t, n)
			_, form, _ := formOf(t, b, carolStatus)
			form.Set("answer", "The one with carol@example.org")
			resp, err = b.c.PostForm(n.http.URL+"/privacy/requests/"+carol+"/answer", form)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("answer: %v %v", resp.StatusCode, err)
			}
			resp.Body.Close()
			act(carol, "execute", nil)
			deliver(t, n)
			resp, err = b.c.Get(strings.Replace(carolStatus, "?token=", "/export?token=", 1))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("download: %v %v", resp.StatusCode, err)
			}
			resp.Body.Close()

			// A month on: Alice's purge runs, and her last mails go out.
			n.clock.Advance(31 * 24 * time.Hour)
			if err := n.srv.Rights.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			deliver(t, n)

			// Dan's address is refused by the mail server: his confirmation
			// is given up. Erin's waits, the server answering "try later".
			mail.Reject("dan@example.org")
			dan, _ := appRequest(`{"type":"access","email":"dan@example.org","app_user_id":"u9"}`)
			deliver(t, n)
			mail.FailNext(1)
			erin, _ := appRequest(`{"type":"erasure","email":"erin@example.org","app_user_id":"u8"}`)
			deliver(t, n)

			for _, m := range mail.Messages() {
				parsed, err := m.Parse()
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
				collect("mail to "+m.To[0], string(body))
			}
			out, _ := n.srv.Store.ListOutbox(ctx, "", 1000)
			var sent, failed, waiting int
			for _, m := range out {
				switch {
				case !m.SentAt.IsZero():
					sent++
				case !m.FailedAt.IsZero():
					failed++
				default:
					waiting++
				}
				// Mail to people names its links by placeholder (what the
				// history shows); the search below shows their values are
				// nowhere.
				if m.Kind == store.OutboxEmail && m.To != "privacy-team@example.org" && !strings.Contains(m.Body, "⟦status page link⟧") {
					t.Errorf("outbox %s: body %q", m.Ref, m.Body)
				}
			}
			if r, _ := n.srv.Store.GetRequest(ctx, alice); r.Status != string(rights.Done) || failed != 1 || waiting != 1 || sent < 15 {
				t.Fatalf("the flows did not run: alice %s; outbox %d sent, %d failed, %d waiting", r.Status, sent, failed, waiting)
			}
			// Every request's token, and a code for each that was mailed.
			var codes int
			for _, where := range secrets {
				if strings.HasSuffix(where, " code") {
					codes++
				}
			}
			if len(secrets)-codes != 5 || codes != 3 {
				t.Fatalf("collected %d tokens and %d codes, want 5 and 3: %v", len(secrets)-codes, codes, secrets)
			}

			// What a copy of the database holds, and a check that the
			// search can find what is there: every request id.
			ids := []string{alice, bob, carol, dan, erin}
			var dumps map[string][]byte
			if name == "sqlite" {
				dumps = sqliteFiles(t, n.srv.Config.DataDir)
				if _, ok := dumps["steward.db-wal"]; !ok {
					t.Fatal("no -wal file to search while the node runs")
				}
			} else {
				dumps = pgRows(t, db)
			}
			searchDumps(t, dumps, secrets, ids)
			logs := n.logs.String()
			for v, where := range secrets {
				if strings.Contains(logs, v) {
					t.Errorf("a log line holds the %s", where)
				}
			}
			if name == "sqlite" {
				// Once more after a clean stop (which checkpoints the WAL).
				n.http.Close()
				n.srv.Close()
				searchDumps(t, sqliteFiles(t, n.srv.Config.DataDir), secrets, ids)
			}
		})
	}
}

// searchDumps fails for every secret found in a dump, as text or hex, and
// unless every id is found (the search sees the data).
func searchDumps(t *testing.T, dumps map[string][]byte, secrets map[string]string, ids []string) {
	t.Helper()
	var names []string
	for f := range dumps {
		names = append(names, f)
	}
	sort.Strings(names)
	var values []string
	for v := range secrets {
		values = append(values, v)
	}
	sort.Strings(values)
	for _, f := range names {
		for _, v := range values {
			where := secrets[v]
			if bytes.Contains(dumps[f], []byte(v)) || bytes.Contains(dumps[f], []byte(hex.EncodeToString([]byte(v)))) {
				t.Errorf("%s holds the %s (%.8s…)", f, where, v)
			}
		}
	}
	for _, id := range ids {
		found := false
		for _, d := range dumps {
			found = found || bytes.Contains(d, []byte(id))
		}
		if !found {
			t.Errorf("request id %s is nowhere in the dump: the search does not see the data", id)
		}
	}
}

// sqliteFiles reads the database files as they lie on disk.
func sqliteFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "steward.db*"))
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = raw
	}
	if len(out) == 0 {
		t.Fatalf("no database files in %s", dir)
	}
	return out
}

// pgRows dumps every row of every table in the test's schema as JSON.
func pgRows(t *testing.T, dsn string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables: %v %v", tables, err)
	}
	out := map[string][]byte{}
	for _, tbl := range tables {
		rows, err := conn.Query(ctx, "SELECT row_to_json(t)::text FROM "+pgx.Identifier{tbl}.Sanitize()+" t")
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		// row_to_json escapes nothing in tokens and codes (letters and
		// digits), so a plain search finds them.
		out["table "+tbl] = []byte(strings.Join(lines, "\n"))
	}
	return out
}
