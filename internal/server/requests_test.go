package server

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/connectors"
	"github.com/steward-privacy/steward/internal/notify/smtptest"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// appFixture is the product's own side: its database (SQLite, reached by
// the SQL connector), its erasure webhook and its support chat.
type appFixture struct {
	dbPath string
	mu     sync.Mutex
	calls  []map[string]any // webhook connector calls, verified
	chat   []string         // support chat messages
	fail   int              // webhook answers 500 this many more times
}

const appSecret = "app-webhook-secret-0123456789"

func newApp(t *testing.T) (*appFixture, *httptest.Server, *httptest.Server) {
	a := &appFixture{dbPath: filepath.Join(t.TempDir(), "app.db")}
	db, err := sql.Open("sqlite", a.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, name TEXT, facebook_id TEXT, active INTEGER)",
		"CREATE TABLE comments (id INTEGER PRIMARY KEY, user_id TEXT, body TEXT)",
		"INSERT INTO users VALUES ('u1', 'alice@example.org', 'Alice', '1001', 1), ('u2', 'bob@example.org', 'Bob', '1002', 1), ('u3', 'carol@example.org', 'Carol', '1003', 1)",
		"INSERT INTO comments (user_id, body) VALUES ('u1', 'hello'), ('u1', 'again'), ('u2', 'bob here')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Steward-Timestamp")
		var tsn int64
		fmt.Sscan(ts, &tsn)
		if connectors.Sign(appSecret, tsn, body) != r.Header.Get("X-Steward-Signature") {
			http.Error(w, "bad signature", 401)
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.fail > 0 {
			a.fail--
			http.Error(w, "down", 500)
			return
		}
		var c map[string]any
		json.Unmarshal(body, &c)
		a.calls = append(a.calls, c)
		fmt.Fprintf(w, `{"count":1,"detail":"%s done by the app"}`, c["phase"])
	}))
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.chat = append(a.chat, string(body))
		a.mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(chat.Close)
	return a, hook, chat
}

func requestsNode(t *testing.T, dsn string) (*node, *smtptest.Server, *appFixture) {
	return requestsNodeWith(t, dsn, nil)
}

// requestsNodeWith is requestsNode with edit applied to the config first
// (another registry and policy, say).
func requestsNodeWith(t *testing.T, dsn string, edit func(*config.Config)) (*node, *smtptest.Server, *appFixture) {
	app, hook, chat := newApp(t)
	mail := smtptest.Start(t)
	rightsFile := filepath.Join(t.TempDir(), "rights.yaml")
	os.WriteFile(rightsFile, []byte(`requests:
  support_email: privacy-team@example.org
  support_webhook: support-chat
  controller: Example Ltd
identity: app_db
connectors:
  - name: app_db
    label: Your account and comments in the Example app
    kind: sql
    driver: sqlite
    dsn: `+app.dbPath+`
    identity:
      by_email: SELECT id, email FROM users WHERE lower(email) = lower(?)
      by_app_user_id: SELECT id, email FROM users WHERE id = ?
      by_facebook_id: SELECT id, email FROM users WHERE facebook_id = ?
    tables:
      - {table: users, key: id, match: account_id, action: overwrite, columns: [email, name], overwrite: erased, deactivate: {active: "0"}}
      - {table: comments, key: user_id, match: account_id, action: delete}
  - name: app
    label: The Example app's own records
    kind: webhook
    url: `+hook.URL+`
    secret: `+appSecret+`
`), 0o600)
	cfg := testConfig(t, dsn)
	cfg.Rights = rightsFile
	cfg.PublicURL = "http://steward.test"
	cfg.FacebookAppSecret = "fb-secret"
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.From, cfg.SMTP.StartTLS = mail.Host(), mail.Port(), "privacy@example.org", "off"
	cfg.Webhooks = map[string]string{"support-chat": chat.URL}
	if edit != nil {
		edit(cfg)
	}
	n := startNode(t, cfg)
	// Links in e-mails name the public URL; tests follow them to the test
	// server instead.
	n.srv.Rights.Config.PublicURL = n.http.URL
	return n, mail, app
}

// deliver runs the outbox worker once.
func deliver(t *testing.T, n *node) {
	t.Helper()
	if _, err := n.srv.Notify.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs, _ := n.srv.Store.ListOutbox(context.Background(), "", 100)
	for _, m := range msgs {
		if m.SentAt.IsZero() {
			t.Logf("outbox %d %s %s: attempts %d, error %q", m.ID, m.Ref, m.Kind, m.Attempts, m.LastError)
		}
	}
}

// mailTo returns the body of the latest message to addr whose subject
// contains subject.
func mailTo(t *testing.T, m *smtptest.Server, addr, subject string) string {
	t.Helper()
	for i := len(m.Messages()) - 1; i >= 0; i-- {
		msg := m.Messages()[i]
		if len(msg.To) == 0 || !strings.EqualFold(msg.To[0], addr) {
			continue
		}
		parsed, err := msg.Parse()
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		subj, _ := dec.DecodeHeader(parsed.Header.Get("Subject"))
		if !strings.Contains(subj, subject) {
			continue
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
		return string(body)
	}
	t.Fatalf("no mail to %s about %q among %d", addr, subject, len(m.Messages()))
	return ""
}

var linkRE = regexp.MustCompile(`https?://\S+`)

func links(body string) []string { return linkRE.FindAllString(body, -1) }

// formOf fetches a page and returns its form's hidden fields.
func formOf(t *testing.T, b *browser, page string) (int, url.Values, string) {
	t.Helper()
	resp, err := b.c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, hidden(string(raw)), string(raw)
}

func TestErasureEndToEnd(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n, mail, app := requestsNode(t, dsn(t))
			ctx := context.Background()
			// Alice's events in steward, collected by a backend under her
			// account id.
			keyer := n.srv.Keyer
			if _, err := n.srv.Store.InsertEvents(ctx, []store.Event{
				{Dataset: "interaction_data", ReceivedAt: testNow, SubjectKey: keyer.Hash("subject", "u1"), Data: []byte(`{"language":"en"}`)},
				{Dataset: "interaction_data", ReceivedAt: testNow, SubjectKey: keyer.Hash("subject", "u1"), Data: []byte(`{"language":"fr"}`)},
				{Dataset: "interaction_data", ReceivedAt: testNow, SubjectKey: keyer.Hash("subject", "u2"), Data: []byte(`{"language":"de"}`)},
			}); err != nil {
				t.Fatal(err)
			}

			// 1. Alice uses the form.
			b := newBrowser(t, n.http.URL)
			if status, _, page := formOf(t, b, n.http.URL+"/privacy/requests/new"); status != 200 || !strings.Contains(page, `<form method="post" action="/privacy/requests">`) {
				t.Fatalf("form: %d %s", status, page)
			}
			// Without the acknowledgement, erasure is refused and nothing stored.
			resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests", url.Values{"email": {"alice@example.org"}, "type": {"erasure"}})
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(page), "cannot be undone") {
				t.Fatalf("no acknowledgement: %d", resp.StatusCode)
			}
			// Posted from another site, nothing either.
			if st, body := crossSitePost(t, b.c, n.http.URL+"/privacy/requests", url.Values{"email": {"alice@example.org"}, "type": {"erasure"}, "acknowledge": {"yes"}}); st != 403 || !strings.Contains(body, "nothing was changed") {
				t.Fatalf("cross-site: %d", st)
			}
			resp, _ = b.c.PostForm(n.http.URL+"/privacy/requests", url.Values{"email": {"Alice@Example.org"}, "type": {"erasure"}, "acknowledge": {"yes"}})
			page, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(page), "Check your e-mail") {
				t.Fatalf("submit: %d %s", resp.StatusCode, page)
			}
			list, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10})
			if total != 1 {
				t.Fatalf("%d requests stored", total)
			}
			id := list[0].ID

			// 2. The confirmation mail arrives; its link shows a button.
			deliver(t, n)
			body := mailTo(t, mail, "alice@example.org", "Please confirm")
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
			// A duplicate while it is open is refused, naming it.
			resp, _ = b.c.PostForm(n.http.URL+"/privacy/requests", url.Values{"email": {"alice@example.org"}, "type": {"erasure"}, "acknowledge": {"yes"}})
			page, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 409 || !strings.Contains(string(page), id) {
				t.Fatalf("duplicate: %d", resp.StatusCode)
			}
			// Guessing: another token, another id, a forged code.
			for _, bad := range []string{
				strings.Replace(statusLink, "token=", "token=x", 1),
				strings.Replace(statusLink, id, "r-aaaaaaaaaaaaaaaa", 1),
				n.http.URL + "/privacy/requests/../../etc/passwd",
			} {
				if st, _, _ := formOf(t, b, bad); st != 404 {
					t.Errorf("%s: %d, want 404", bad, st)
				}
			}
			st, cform, _ := formOf(t, b, confirmLink)
			if st != 200 || cform.Get("code") == "" {
				t.Fatalf("confirm page: %d", st)
			}
			if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.WaitingForEmail) {
				t.Fatalf("opening the link changed the request: %s", r.Status)
			}
			forged := url.Values{"token": {cform.Get("token")}, "code": {"forged"}}
			resp, _ = b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", forged)
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Fatalf("forged code: %d", resp.StatusCode)
			}
			resp, _ = b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", cform)
			page, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(page), "your request is confirmed") {
				t.Fatalf("confirm: %d %s", resp.StatusCode, page)
			}
			// Replaying the used link changes nothing.
			resp, _ = b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", cform)
			resp.Body.Close()
			if h, _ := n.srv.Store.RequestHistory(ctx, id); len(h) != 2 {
				t.Fatalf("history after replay: %+v", h)
			}

			// 3. Support hears of it by e-mail and chat.
			deliver(t, n)
			mailTo(t, mail, "alice@example.org", "We received your erasure request")
			if support := mailTo(t, mail, "privacy-team@example.org", "New erasure request"); !strings.Contains(support, id) {
				t.Fatalf("support mail: %s", support)
			}
			app.mu.Lock()
			chat := strings.Join(app.chat, "\n")
			app.mu.Unlock()
			if !strings.Contains(chat, id) || strings.Contains(chat, "alice") {
				t.Fatalf("chat: %s", chat)
			}

			// 4. Support takes and executes; the app's webhook fails once and
			// is retried alone.
			if _, err := n.srv.Rights.Take(ctx, id, "support@example.org"); err != nil {
				t.Fatal(err)
			}
			app.mu.Lock()
			app.fail = 3 // the connector's own retries are used up
			app.mu.Unlock()
			_, err := n.srv.Rights.Execute(ctx, id, "support@example.org")
			var se *rights.StepError
			if !errors.As(err, &se) || se.Connector != "app" || se.Phase != "deactivate" {
				t.Fatalf("execute with the app down: %v", err)
			}
			if _, err := n.srv.Rights.Run(ctx, id); err != nil {
				t.Fatalf("retry: %v", err)
			}
			steps, _ := n.srv.Store.RequestSteps(ctx, id)
			got := map[string]string{}
			for _, s := range steps {
				got[s.Connector+"/"+s.Phase] = fmt.Sprintf("%s %d %d", s.Status, s.Count, s.Attempts)
			}
			// Every call counts as an attempt: the app's three failed calls
			// of the first run, and the retry's one.
			if got["app_db/deactivate"] != "done 1 1" || got["app/deactivate"] != "done 1 4" || got["steward-events/deactivate"] != "done 0 1" {
				t.Fatalf("deactivation steps: %v", got)
			}
			appDB, _ := sql.Open("sqlite", app.dbPath)
			defer appDB.Close()
			var active int
			appDB.QueryRow("SELECT active FROM users WHERE id = 'u1'").Scan(&active)
			if active != 0 {
				t.Fatal("account not deactivated")
			}

			// 5. Thirty days later the scheduler purges.
			n.clock.Advance(31 * 24 * time.Hour)
			if err := n.srv.Rights.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			r, _ := n.srv.Store.GetRequest(ctx, id)
			if r.Status != string(rights.Done) || r.Receipt == "" {
				t.Fatalf("after the grace period: %s", r.Status)
			}
			var email, nameCol string
			var comments, bobComments int
			appDB.QueryRow("SELECT email, name FROM users WHERE id = 'u1'").Scan(&email, &nameCol)
			appDB.QueryRow("SELECT count(*) FROM comments WHERE user_id = 'u1'").Scan(&comments)
			appDB.QueryRow("SELECT count(*) FROM comments WHERE user_id = 'u2'").Scan(&bobComments)
			if email != "erased" || nameCol != "erased" || comments != 0 || bobComments != 1 {
				t.Fatalf("app data after purge: %s %s %d %d", email, nameCol, comments, bobComments)
			}
			left, _ := n.srv.Store.ListEvents(ctx, store.EventQuery{Dataset: "interaction_data", To: testNow.Add(time.Hour), Limit: 10})
			if len(left) != 1 || left[0].SubjectKey != keyer.Hash("subject", "u2") {
				t.Fatalf("events after purge: %+v", left)
			}
			rc, _, err := n.srv.Rights.VerifiedReceipt(ctx, id)
			if err != nil || len(rc.Steps) != 6 {
				t.Fatalf("receipt: %+v %v", rc, err)
			}
			deliver(t, n)
			if done := mailTo(t, mail, "alice@example.org", "is done"); !strings.Contains(done, statusLink) {
				t.Fatalf("done mail: %s", done)
			}
			// The status page shows the receipt; the history hides staff.
			_, _, statusPage := formOf(t, b, statusLink)
			if !strings.Contains(statusPage, "What we erased") || !strings.Contains(statusPage, "2 records erased") || strings.Contains(statusPage, "support@example.org") || strings.Contains(statusPage, "steward-events") {
				t.Fatalf("status page: %s", statusPage)
			}
			// Done is done: a new erasure for Alice is a duplicate.
			if _, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Erasure, Email: "alice@example.org", Acknowledged: true}); err == nil {
				t.Fatal("a second erasure after done was accepted")
			}
		})
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func TestFacebookCallback(t *testing.T) {
	n, mail, _ := requestsNode(t, "")
	ctx := context.Background()
	call := func(signed string) (int, map[string]any) {
		resp, err := http.PostForm(n.http.URL+"/callbacks/facebook/data-deletion", url.Values{"signed_request": {signed}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	payload := map[string]any{"algorithm": "HMAC-SHA256", "issued_at": testNow.Unix() - 30, "user_id": "1002"}
	for name, signed := range map[string]string{
		"forged":          rights.SignRequest(payload, "not-the-secret"),
		"wrong algorithm": rights.SignRequest(map[string]any{"algorithm": "none", "issued_at": testNow.Unix(), "user_id": "1002"}, "fb-secret"),
		"expired":         rights.SignRequest(map[string]any{"algorithm": "HMAC-SHA256", "issued_at": testNow.Unix() - 7200, "user_id": "1002"}, "fb-secret"),
		"malformed":       "this is not a signed request",
		"empty":           "",
	} {
		if status, out := call(signed); status != 400 || out["detail"] == "" {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
	if _, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 1}); total != 0 {
		t.Fatalf("bad callbacks stored %d requests", total)
	}
	status, out := call(rights.SignRequest(payload, "fb-secret"))
	code, _ := out["confirmation_code"].(string)
	page, _ := out["url"].(string)
	if status != 200 || !regexp.MustCompile(`^[A-Z0-9]+$`).MatchString(code) || !strings.Contains(page, "/privacy/requests/r-") {
		t.Fatalf("valid callback: %d %v", status, out)
	}
	// Facebook calling again gets the same request back.
	if _, again := call(rights.SignRequest(payload, "fb-secret")); again["confirmation_code"] != code {
		t.Fatalf("repeated callback: %v", again)
	}
	list, _, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10})
	r := list[0]
	if len(list) != 1 || r.Status != string(rights.Received) || r.Email != "bob@example.org" || r.AccountID != "u2" {
		t.Fatalf("stored: %+v", list)
	}
	// Support may take it, but nothing is erased before Bob confirms.
	if _, err := n.srv.Rights.Take(ctx, r.ID, "support"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.Rights.Execute(ctx, r.ID, "support"); !errors.Is(err, rights.ErrNotReady) {
		t.Fatalf("execute before confirmation: %v", err)
	}
	deliver(t, n)
	body := mailTo(t, mail, "bob@example.org", "Please confirm")
	b := newBrowser(t, n.http.URL)
	var confirm string
	for _, l := range links(body) {
		if strings.Contains(l, "/confirm?") {
			confirm = l
		}
	}
	_, form, _ := formOf(t, b, confirm)
	resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests/"+r.ID+"/confirm", form)
	resp.Body.Close()
	if got, _ := n.srv.Store.GetRequest(ctx, r.ID); got.EmailConfirmedAt.IsZero() || got.Status != string(rights.InProgress) {
		t.Fatalf("after confirmation: %+v", got)
	}
}

func TestAccessRequestAndIdentityCheck(t *testing.T) {
	n, mail, _ := requestsNode(t, "")
	ctx := context.Background()
	app := token(t, n, auth.App)
	if _, err := n.srv.Store.InsertEvents(ctx, []store.Event{{Dataset: "interaction_data", ReceivedAt: testNow,
		SubjectKey: n.srv.Keyer.Hash("subject", "u1"), Data: []byte(`{"language":"en"}`)}}); err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, map[string]any) {
		status, out, _ := do(t, "POST", n.http.URL+"/v1/requests", app, body, nil)
		return status, out
	}
	for _, bad := range []string{`{"type":"erasure","email":"not-an-address","app_user_id":"u1"}`, `{"type":"delete","email":"a@example.org","app_user_id":"u1"}`,
		`{"type":"access","email":"a@example.org"}`, `{"type":"access","email":"a@example.org","app_user_id":"u1","colour":1}`, `[1,2]`} {
		if status, out := post(bad); status != 400 || out["detail"] == "" {
			t.Errorf("%s: %d %v", bad, status, out)
		}
	}
	// Access for Alice (u1), through the app.
	status, out := post(`{"type":"access","email":"alice@example.org","app_user_id":"u1"}`)
	if status != 201 {
		t.Fatalf("app intake: %d %v", status, out)
	}
	id := out["id"].(string)
	if status, dup := post(`{"type":"access","email":"alice@example.org","app_user_id":"u1"}`); status != 409 || !strings.Contains(dup["detail"].(string), id) {
		t.Fatalf("duplicate: %d %v", status, dup)
	}
	// Mallory asks for Bob's account (u2) with her own address.
	status, out = post(`{"type":"erasure","email":"mallory@example.org","app_user_id":"u2"}`)
	if status != 201 {
		t.Fatalf("%d %v", status, out)
	}
	mallory := out["id"].(string)

	deliver(t, n)
	b := newBrowser(t, n.http.URL)
	confirm := func(addr, rid string) string {
		body := mailTo(t, mail, addr, "Please confirm")
		var link, statusLink string
		for _, l := range links(body) {
			if strings.Contains(l, "/confirm?") {
				link = l
			} else if strings.Contains(l, "?token=") {
				statusLink = l
			}
		}
		_, form, _ := formOf(t, b, link)
		resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests/"+rid+"/confirm", form)
		resp.Body.Close()
		if _, err := n.srv.Rights.Take(ctx, rid, "support"); err != nil {
			t.Fatal(err)
		}
		return statusLink
	}
	// Confirming Alice's request with Mallory's link does nothing.
	malloryMail := mailTo(t, mail, "mallory@example.org", "Please confirm")
	for _, l := range links(malloryMail) {
		if strings.Contains(l, "/confirm?") {
			_, form, _ := formOf(t, b, l)
			resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests/"+id+"/confirm", form)
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Fatalf("another person's link: %d", resp.StatusCode)
			}
		}
	}
	statusLink := confirm("alice@example.org", id)
	confirm("mallory@example.org", mallory)

	// Mallory's confirmed address is not Bob's account's: rejected.
	r, err := n.srv.Rights.Execute(ctx, mallory, "support")
	if err != nil || r.Status != string(rights.Rejected) || !strings.Contains(r.RejectReason, "does not match") {
		t.Fatalf("mismatch: %+v %v", r, err)
	}
	// Alice's export.
	r, err = n.srv.Rights.Execute(ctx, id, "support")
	if err != nil || r.Status != string(rights.Done) {
		t.Fatalf("export: %+v %v", r, err)
	}
	_, _, page := formOf(t, b, statusLink)
	if !strings.Contains(page, "Download your data") {
		t.Fatalf("status page: %s", page)
	}
	resp, err := b.c.Get(strings.Replace(statusLink, "?token=", "/export?token=", 1))
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("download: %d %v", resp.StatusCode, err)
	}
	names := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		names[f.Name] = string(b)
	}
	if !strings.Contains(names["data.json"], "alice@example.org") || !strings.Contains(names["app_db-comments.csv"], "hello") ||
		!strings.Contains(names["steward-events-interaction_data.csv"], "en") || strings.Contains(names["data.json"], "bob@example.org") {
		t.Fatalf("archive: %v", names)
	}
	// The download is in the access log under Alice's key.
	entries, _ := n.srv.Store.ListAccess(ctx, store.AccessQuery{Dataset: "@request_export", Limit: 10})
	if len(entries) != 1 || entries[0].SubjectKeys[0] != r.SubjectKey || entries[0].AuthMethod != "status-token" {
		t.Fatalf("access log: %+v", entries)
	}
	// After the export TTL the archive is gone.
	n.clock.Advance(8 * 24 * time.Hour)
	n.srv.Rights.Tick(ctx)
	resp, _ = b.c.Get(strings.Replace(statusLink, "?token=", "/export?token=", 1))
	resp.Body.Close()
	if resp.StatusCode != 410 {
		t.Fatalf("expired download: %d", resp.StatusCode)
	}
	if _, err := os.Stat(r.ExportPath); !os.IsNotExist(err) {
		t.Fatalf("archive still on disk: %v", err)
	}
}

func TestRequestTimeoutsAndQuestions(t *testing.T) {
	n, mail, _ := requestsNode(t, "")
	ctx := context.Background()
	sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "carol@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "nobody@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, n)
	b := newBrowser(t, n.http.URL)
	var statusLink string
	for _, l := range links(mailTo(t, mail, "carol@example.org", "Please confirm")) {
		if strings.Contains(l, "/confirm?") {
			_, form, _ := formOf(t, b, l)
			resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests/"+sub.Request.ID+"/confirm", form)
			resp.Body.Close()
		} else if strings.Contains(l, "?token=") {
			statusLink = l
		}
	}
	n.srv.Rights.Take(ctx, sub.Request.ID, "support")
	if _, err := n.srv.Rights.AskUser(ctx, sub.Request.ID, "support", "Which app account did you use?"); err != nil {
		t.Fatal(err)
	}
	deliver(t, n)
	if q := mailTo(t, mail, "carol@example.org", "A question"); !strings.Contains(q, "Which app account") || !strings.Contains(q, statusLink) {
		t.Fatalf("question mail: %s", q)
	}
	_, form, page := formOf(t, b, statusLink)
	if !strings.Contains(page, "Which app account") {
		t.Fatal("question not on the status page")
	}
	form.Set("answer", "")
	resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests/"+sub.Request.ID+"/answer", form)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("empty answer: %d", resp.StatusCode)
	}
	form.Set("answer", "The one with carol@example.org")
	resp, _ = b.c.PostForm(n.http.URL+"/privacy/requests/"+sub.Request.ID+"/answer", form)
	resp.Body.Close()
	if r, _ := n.srv.Store.GetRequest(ctx, sub.Request.ID); r.Status != string(rights.InProgress) || r.Answer == "" {
		t.Fatalf("after answering: %+v", r)
	}
	// Ask again, and this time Carol stays silent for 30 days; the other
	// request was never confirmed.
	n.srv.Rights.AskUser(ctx, sub.Request.ID, "support", "And your user name?")
	n.clock.Advance(29 * 24 * time.Hour)
	n.srv.Rights.Tick(ctx)
	if r, _ := n.srv.Store.GetRequest(ctx, quiet.Request.ID); r.Status != string(rights.WaitingForEmail) {
		t.Fatalf("rejected too early: %s", r.Status)
	}
	n.clock.Advance(2 * 24 * time.Hour)
	if err := n.srv.Rights.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{sub.Request.ID, quiet.Request.ID} {
		if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.Rejected) || r.RejectReason == "" {
			t.Fatalf("%s after 31 days: %+v", id, r)
		}
	}
	// Carol's page says why, shows the question left unanswered and
	// offers a new request.
	_, _, page = formOf(t, b, statusLink)
	for _, want := range []string{"closed without action", "we did not hear back in time", "Our question, which was not answered",
		"And your user name?", `href="/privacy/requests/new"`} {
		if !strings.Contains(htmlUnescape(page), want) {
			t.Fatalf("rejected status page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `action="/privacy/requests/`+sub.Request.ID+`/answer"`) {
		t.Fatal("a rejected request still takes an answer")
	}
	// The expired confirmation link no longer works.
	deliver(t, n)
	for _, l := range links(mailTo(t, mail, "nobody@example.org", "Please confirm")) {
		if strings.Contains(l, "/confirm?") {
			_, form, _ := formOf(t, b, l)
			resp, _ := b.c.PostForm(n.http.URL+"/privacy/requests/"+quiet.Request.ID+"/confirm", form)
			resp.Body.Close()
			if resp.StatusCode != 410 {
				t.Fatalf("expired link: %d", resp.StatusCode)
			}
		}
	}
	mailTo(t, mail, "nobody@example.org", "was closed")
	// Extension: once, with a reason, moving the due date by the law's
	// extension.
	sub2, _ := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Erasure, Email: "dan@example.org", Acknowledged: true})
	r, err := n.srv.Rights.Extend(ctx, sub2.Request.ID, "support", "many systems to search")
	if err != nil || !r.DueAt.Equal(sub2.Request.DueAt.AddDate(0, 2, 0)) {
		t.Fatalf("extend: %v %v", r.DueAt, err)
	}
	if _, err := n.srv.Rights.Extend(ctx, sub2.Request.ID, "support", "again"); !errors.Is(err, rights.ErrNotReady) {
		t.Fatalf("second extension: %v", err)
	}
}

// TestRequestFormIsRateLimited: each submission can e-mail any address, so
// one network may send only so many an hour; past that nothing is stored.
func TestRequestFormIsRateLimited(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.RequestsPerHour = 2
	n := startNode(t, cfg)
	b := newBrowser(t, n.http.URL)
	for i, want := range []int{200, 200, 429} {
		formOf(t, b, n.http.URL+"/privacy/requests/new")
		resp, err := b.c.PostForm(n.http.URL+"/privacy/requests", url.Values{
			"email": {fmt.Sprintf("person%d@example.org", i)}, "type": {"access"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("submission %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 && (!strings.Contains(string(body), "Too many requests") || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("the refusal does not explain itself: %s", body)
		}
	}
	got, _, err := n.srv.Store.ListRequests(context.Background(), store.RequestFilter{Limit: 10})
	if err != nil || len(got) != 2 {
		t.Fatalf("stored %d requests (%v), want 2", len(got), err)
	}
}
