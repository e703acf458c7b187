package server

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// notUTF8 is how the refusal of bytes that are not UTF-8 reads.
const notUTF8 = "not valid text"

// TestPagesRefuseInvalidUTF8: text that is not UTF-8 would be stored and
// mailed as charset=utf-8 (SQLite) or refused by the database as an
// outage (PostgreSQL). Every form refuses it with a 400 page that says so,
// drawn again with the message, and changes nothing.
func TestPagesRefuseInvalidUTF8(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n, mail, _ := requestsNode(t, dsn(t))
			ctx := context.Background()
			outbox := func() int {
				msgs, err := n.srv.Store.ListOutbox(ctx, "", 1000)
				if err != nil {
					t.Fatal(err)
				}
				return len(msgs)
			}
			refused := func(what string, status int, body string, want ...string) {
				t.Helper()
				if status != 400 || !strings.Contains(body, notUTF8) {
					t.Errorf("%s: %d, want 400 saying %q:\n%s", what, status, notUTF8, body)
				}
				if !utf8.ValidString(body) {
					t.Errorf("%s: the page itself is not UTF-8", what)
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s: the page was not drawn again (no %q)", what, w)
					}
				}
			}

			// The public request form.
			b := newBrowser(t, n.http.URL)
			formOf(t, b, n.http.URL+"/privacy/requests/new")
			for _, email := range []string{"al\xffce@example.org", "alice@ex\xc3ample.org", "\xed\xa0\x80@example.org", "alice\x00@example.org"} {
				st, body, _ := postWith(t, b.c, n.http.URL+"/privacy/requests", url.Values{"email": {email}, "type": {"access"}}, nil)
				refused("request form e-mail "+email, st, body, `action="/privacy/requests"`)
			}
			if _, total, _ := n.srv.Store.ListRequests(ctx, store.RequestFilter{Limit: 10}); total != 0 || outbox() != 0 {
				t.Fatalf("a refused request was stored (%d) or mailed (%d)", total, outbox())
			}

			// The app's JSON intake: JSON text is UTF-8, but may carry NUL.
			app := token(t, n, auth.App)
			if st, out, h := do(t, "POST", n.http.URL+"/v1/requests", app, `{"type":"access","email":"a@example.org","app_user_id":"u1\u0000"}`, nil); st != 400 ||
				!strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || !strings.Contains(out["detail"].(string), notUTF8) {
				t.Errorf("app intake with a NUL: %d %v", st, out)
			}

			// A request support works on, confirmed by its person.
			sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "carol@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			deliver(t, n)
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
			id := sub.Request.ID
			if _, err := n.srv.Rights.Take(ctx, id, "support"); err != nil {
				t.Fatal(err)
			}
			support := signIn(t, n, auth.Support)
			before, _ := n.srv.Store.GetRequest(ctx, id)
			hist, _ := n.srv.Store.RequestHistory(ctx, id)
			mails := outbox()
			unchanged := func(what string) {
				t.Helper()
				r, err := n.srv.Store.GetRequest(ctx, id)
				h, _ := n.srv.Store.RequestHistory(ctx, id)
				if err != nil || r.Version != before.Version || r.Status != before.Status || r.Question != before.Question ||
					r.Answer != before.Answer || r.RejectReason != "" || r.ExtensionReason != "" || len(h) != len(hist) || outbox() != mails {
					t.Errorf("%s changed the request: %+v (err %v), %d history lines, %d messages", what, r, err, len(h), outbox())
				}
			}
			for _, act := range []struct{ action, field, text, shown string }{
				{"ask", "question", "Which account did you use?\xff", "Which account did you use?\uFFFD"},
				{"ask", "question", "Which account\x00 did you use?", ""},
				{"reject", "reason", "\xc0\xafetc/passwd is not ours", "\uFFFDetc/passwd is not ours"},
				{"extend", "reason", "many systems \xe2\x82 to search", "many systems \uFFFD to search"},
			} {
				_, page, _ := support.get("/admin/requests/" + id)
				form := hidden(page)
				form.Set(act.field, act.text)
				st, body, _ := support.postForm("/admin/requests/"+id+"/"+act.action, form)
				refused("portal "+act.action, st, body, "Request "+id, `action="/admin/requests/`+id+`/`+act.action+`"`, act.shown)
				unchanged("portal " + act.action)
			}
			// Text in other scripts is of course fine.
			_, page, _ := support.get("/admin/requests/" + id)
			form := hidden(page)
			form.Set("question", "Welches Konto — das mit „ü“? 你用的是哪个帐户？")
			if st, body, _ := support.postForm("/admin/requests/"+id+"/ask", form); st != 303 {
				t.Fatalf("a question in UTF-8: %d\n%s", st, body)
			}
			deliver(t, n)
			before, _ = n.srv.Store.GetRequest(ctx, id)
			hist, _ = n.srv.Store.RequestHistory(ctx, id)
			mails = outbox()

			// The person's answer on the status page.
			_, form, _ = formOf(t, b, statusLink)
			form.Set("answer", "the one with carol@\xffexample.org")
			st, body, _ := postWith(t, b.c, n.http.URL+"/privacy/requests/"+id+"/answer", form, nil)
			refused("answer", st, body, "Our question", `action="/privacy/requests/`+id+`/answer"`)
			unchanged("answer")

			// The portal's search, and the sign-in form.
			for _, q := range []string{"carol\xff", "carol\x00"} {
				st, body, _ = support.get("/admin/requests?q=" + url.QueryEscape(q))
				refused("portal search", st, body, "Please fix the filter")
			}
			p := newPage(t, n.http.URL)
			st, body, _ = p.login("sam\xff@staff.example.org", staffPassword, "", "")
			refused("sign-in login", st, body, `action="/login"`, "value=\"sam\uFFFD@staff.example.org\"")
			st, body, _ = p.login("sam\x00@staff.example.org", staffPassword, "", "")
			refused("sign-in login with NUL", st, body, `action="/login"`)
			st, body, _ = p.login("sam@staff.example.org", "correct horse \xffbattery", "", "")
			refused("sign-in password", st, body, `action="/login"`)
		})
	}
}
