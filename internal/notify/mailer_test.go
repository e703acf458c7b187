package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/notify/smtptest"
	"github.com/steward-privacy/steward/internal/store"
)

func decodeBody(t *testing.T, m *mail.Message) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMailDelivered(t *testing.T) {
	e := newEnv(t)
	body := "Hallo Zoë,\n\nIhre Auskunft ist bereit. BODY\n.\nA line with = and a tail that is long enough to need a soft line break in quoted-printable encoding, ünïcödé included.\nEnde"
	subject := "Ihre Auskunft ist bereit – Grüße aus Köln"
	msg := e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "Zoë Müller <zoe@example.org>", Subject: subject, Body: body, Ref: "request:r_1"})
	e.clock.Advance(time.Second) // the Date header is the send time
	e.runOnce(1)

	got := e.smtp.Messages()
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	if got[0].From != "steward@example.org" || len(got[0].To) != 1 || got[0].To[0] != "zoe@example.org" {
		t.Fatalf("envelope: %s → %v", got[0].From, got[0].To)
	}
	for _, line := range strings.Split(string(got[0].Data), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d bytes", len(line))
		}
	}
	m, err := got[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "Steward" || from[0].Address != "steward@example.org" {
		t.Fatalf("From: %v %v", from, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != "Zoë Müller" || to[0].Address != "zoe@example.org" {
		t.Fatalf("To: %v %v", to, err)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Fatalf("non-ASCII subject not RFC 2047 encoded: %q", raw)
	}
	if s := decodeHeader(t, h.Get("Subject")); s != subject {
		t.Fatalf("Subject: %q", s)
	}
	if d, err := h.Date(); err != nil || !d.Equal(t0.Add(time.Second)) {
		t.Fatalf("Date: %v %v", d, err)
	}
	if id := h.Get("Message-ID"); id != e.mailer.MessageID(msg) || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Fatalf("Message-ID: %q", id)
	}
	for k, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
	} {
		if v := h.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if b := decodeBody(t, m); b != strings.ReplaceAll(body+"\n", "\n", "\r\n") {
		t.Fatalf("body:\n%q\nwant\n%q", b, body)
	}

	row := e.get("request:r_1")
	if !row.SentAt.Equal(t0.Add(time.Second)) || row.Attempts != 1 || row.LastError != "" || !row.FailedAt.IsZero() {
		t.Fatalf("outbox row: %+v", row)
	}
	e.runOnce(0) // nothing is sent twice
	if !strings.Contains(e.logs.String(), `"ref":"request:r_1"`) {
		t.Fatalf("delivery not logged by ref: %s", e.logs)
	}
}

func TestMessageIDStable(t *testing.T) {
	e := newEnv(t)
	msg := store.OutboxMessage{ID: 42, Kind: store.OutboxEmail, To: "a@example.org", CreatedAt: t0}
	id := e.mailer.MessageID(msg)
	e.clock.Advance(time.Hour)
	msg.Attempts = 7
	if again := e.mailer.MessageID(msg); again != id {
		t.Fatalf("Message-ID changed between attempts: %s, %s", id, again)
	}
	msg.ID = 43
	if other := e.mailer.MessageID(msg); other == id {
		t.Fatal("two messages share a Message-ID")
	}
	if _, err := mail.ParseAddress("x " + id); err != nil {
		t.Fatalf("Message-ID %s is not an addr-spec in angle brackets: %v", id, err)
	}
}

func TestLongSubjectsFolded(t *testing.T) {
	e := newEnv(t)
	for _, subject := range []string{
		strings.Repeat("Grüße aus Köln, ", 20),
		strings.Repeat("plain ascii words ", 30),
	} {
		_, data, err := e.mailer.Compose(store.OutboxMessage{Kind: store.OutboxEmail, To: "a@example.org", Subject: subject, Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
		for _, line := range strings.Split(string(head), "\r\n") {
			if len(line) > 100 {
				t.Errorf("header line of %d bytes: %q", len(line), line)
			}
		}
		m, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// Trailing white space does not survive unfolding.
		if got := decodeHeader(t, m.Header.Get("Subject")); got != strings.TrimRight(subject, " ") && got != subject {
			t.Errorf("subject after folding:\n%q\nwant\n%q", got, subject)
		}
	}
	// One word too long for any line is refused, not sent broken.
	_, _, err := e.mailer.Compose(store.OutboxMessage{Kind: store.OutboxEmail, To: "a@example.org", Subject: strings.Repeat("x", 1200)})
	if !notify.IsPermanent(err) {
		t.Fatalf("overlong subject: %v", err)
	}
}

func TestTemporaryFailureRetried(t *testing.T) {
	e := newEnv(t)
	e.smtp.FailNext(1)
	msg := e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "s", Body: "BODY", Ref: "r1"})
	e.runOnce(1)
	if e.smtp.Attempts() != 1 || len(e.smtp.Messages()) != 0 {
		t.Fatalf("server saw %d attempts, accepted %d", e.smtp.Attempts(), len(e.smtp.Messages()))
	}
	row := e.get("r1")
	if !strings.Contains(row.LastError, "451") || !row.NextAttemptAt.Equal(t0.Add(30*time.Second)) || !row.SentAt.IsZero() || !row.FailedAt.IsZero() {
		t.Fatalf("after 451: %+v", row)
	}
	e.clock.Advance(29 * time.Second)
	e.runOnce(0)
	e.clock.Advance(time.Second)
	e.runOnce(1)
	got := e.smtp.Messages()
	if len(got) != 1 {
		t.Fatalf("accepted %d after retry", len(got))
	}
	m, _ := got[0].Parse()
	if m.Header.Get("Message-ID") != e.mailer.MessageID(msg) {
		t.Fatal("retry changed the Message-ID")
	}
	if row := e.get("r1"); !row.SentAt.Equal(t0.Add(30*time.Second)) || row.Attempts != 2 {
		t.Fatalf("after retry: %+v", row)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "will retry") || !strings.Contains(logs, "451 4.3.0") {
		t.Fatalf("failure not logged with its code: %s", logs)
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	e.worker.MaxAttempts = 4
	e.smtp.FailNext(100)
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "s", Body: "BODY", Ref: "r1"})
	// 30s, then doubling.
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		e.runOnce(1)
		row := e.get("r1")
		if row.Attempts != i+1 || !row.NextAttemptAt.Equal(e.clock.Now().Add(wait)) || !row.FailedAt.IsZero() {
			t.Fatalf("after failure %d: %+v", i+1, row)
		}
		e.clock.Advance(wait)
	}
	e.runOnce(1)
	row := e.get("r1")
	if row.Attempts != 4 || !row.FailedAt.Equal(e.clock.Now()) || !strings.Contains(row.LastError, "451") {
		t.Fatalf("not given up after 4 attempts: %+v", row)
	}
	e.clock.Advance(24 * time.Hour)
	e.runOnce(0)
	if e.smtp.Attempts() != 4 {
		t.Fatalf("server saw %d attempts", e.smtp.Attempts())
	}
	if !strings.Contains(e.logs.String(), "gave up") {
		t.Fatalf("give-up not logged: %s", e.logs)
	}
}

func TestBackoffCapped(t *testing.T) {
	e := newEnv(t)
	e.worker.MaxAttempts = 100
	e.smtp.FailNext(100)
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: "r1"})
	var last time.Duration
	for range 10 {
		e.runOnce(1)
		last = e.get("r1").NextAttemptAt.Sub(e.clock.Now())
		e.clock.Advance(last)
	}
	if last != time.Hour {
		t.Fatalf("backoff after 10 failures is %s, want the 1h cap", last)
	}
}

func TestRecipientRejectedIsPermanent(t *testing.T) {
	e := newEnv(t)
	e.smtp.Reject("nobody@example.org")
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "nobody@example.org", Subject: "s", Body: "BODY", Ref: "r1"})
	e.runOnce(1)
	row := e.get("r1")
	if row.FailedAt.IsZero() || row.Attempts != 1 || !strings.Contains(row.LastError, "550") {
		t.Fatalf("550 not given up at once: %+v", row)
	}
	// The server's reply quoted the address: kept in the row, not logged
	// (checkLogs).
	if !strings.Contains(row.LastError, "nobody@example.org") {
		t.Fatalf("row lost the server's reply: %q", row.LastError)
	}
	if !strings.Contains(e.logs.String(), "550 5.1.1") {
		t.Fatalf("rejection code not logged: %s", e.logs)
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	e := newEnv(t)
	for i, m := range []store.OutboxMessage{
		{To: "ana@example.org\r\nBcc: eve@example.net", Subject: "s"},
		{To: "ana@example.org\nBcc: eve@example.net", Subject: "s"},
		{To: "ana@example.org, eve@example.net", Subject: "s"},
		{To: "not an address", Subject: "s"},
		{To: "ana@example.org", Subject: "hello\r\nBcc: eve@example.net"},
		{To: "ana@example.org", Subject: "hello\nBcc: eve@example.net"},
		{To: "ana@example.org", Subject: "hello\rBcc: eve@example.net"},
		{To: "ana@example.org", Subject: "nul\x00byte"},
	} {
		m.Kind, m.Body, m.Ref = store.OutboxEmail, "BODY", "inj"+string(rune('a'+i))
		e.enqueue(m)
	}
	e.runOnce(8)
	if e.smtp.Attempts() != 0 || len(e.smtp.Messages()) != 0 {
		t.Fatalf("a hostile message reached the server")
	}
	rows, _ := e.store.ListOutbox(context.Background(), "inj", 10)
	for _, r := range rows {
		if r.FailedAt.IsZero() || !r.SentAt.IsZero() || r.Attempts != 1 {
			t.Errorf("%s not failed at once: %+v", r.Ref, r)
		}
		if strings.Contains(r.LastError, "eve") {
			t.Errorf("%s: error repeats the input: %q", r.Ref, r.LastError)
		}
	}
}

// A display name may carry a line break inside an encoded word or a quoted
// string; it must be refused or stay encoded, never reach the header raw.
func TestEncodedLineBreakInName(t *testing.T) {
	e := newEnv(t)
	for _, to := range []string{
		"=?utf-8?q?Eve=0D=0ABcc:_x@example.net?= <eve@example.org>",
		"=?utf-8?b?RXZlDQpCY2M6IHhAZXhhbXBsZS5uZXQ=?= <eve@example.org>",
		`"Eve\` + "\r\n" + `Bcc: x@example.net" <eve@example.org>`,
		"=?utf-8?q?Zo=C3=AB?= <eve@example.org>",
	} {
		_, data, err := e.mailer.Compose(store.OutboxMessage{Kind: store.OutboxEmail, Subject: "s", Body: "b", To: to})
		if err != nil {
			if !notify.IsPermanent(err) {
				t.Errorf("%q: refused, but not permanently: %v", to, err)
			}
			continue
		}
		m, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Header["Bcc"]) != 0 {
			t.Fatalf("header injected:\n%s", data)
		}
		addrs, err := m.Header.AddressList("To")
		if err != nil || len(addrs) != 1 || addrs[0].Address != "eve@example.org" {
			t.Fatalf("%q: To: %v %v", to, addrs, err)
		}
	}
}

func TestMailerConfig(t *testing.T) {
	ok := notify.MailerConfig{Host: "mail.example.org", From: "steward@example.org"}
	for name, tc := range map[string]struct {
		mod  func(*notify.MailerConfig)
		fail bool
	}{
		"defaults":                 {func(*notify.MailerConfig) {}, false},
		"no host":                  {func(c *notify.MailerConfig) { c.Host = "" }, true},
		"no from":                  {func(c *notify.MailerConfig) { c.From = "" }, true},
		"bad from":                 {func(c *notify.MailerConfig) { c.From = "steward" }, true},
		"from with line break":     {func(c *notify.MailerConfig) { c.From = "a@example.org\r\nBcc: b@example.org" }, true},
		"bad mode":                 {func(c *notify.MailerConfig) { c.StartTLS = "sometimes" }, true},
		"bad port":                 {func(c *notify.MailerConfig) { c.Port = 70000 }, true},
		"off to a remote host":     {func(c *notify.MailerConfig) { c.StartTLS = notify.StartTLSOff }, true},
		"off to a remote, allowed": {func(c *notify.MailerConfig) { c.StartTLS, c.AllowInsecure = notify.StartTLSOff, true }, false},
		"off to loopback":          {func(c *notify.MailerConfig) { c.StartTLS, c.Host = notify.StartTLSOff, "127.0.0.1" }, false},
		"off to localhost":         {func(c *notify.MailerConfig) { c.StartTLS, c.Host = notify.StartTLSOff, "localhost" }, false},
		"off to ::1 with password": {func(c *notify.MailerConfig) {
			c.StartTLS, c.Host, c.Username, c.Password = notify.StartTLSOff, "::1", "u", "hunter2"
		}, false},
		"password in clear, remote": {func(c *notify.MailerConfig) {
			c.StartTLS, c.AllowInsecure, c.Username, c.Password = notify.StartTLSOff, true, "u", "hunter2"
		}, true},
		"opportunistic": {func(c *notify.MailerConfig) { c.StartTLS = notify.StartTLSOpportunistic }, false},
	} {
		c := ok
		tc.mod(&c)
		_, err := notify.NewMailer(c, clock.Real{})
		if (err != nil) != tc.fail {
			t.Errorf("%s: err = %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the password", name)
		}
	}
}

func send(t *testing.T, cfg notify.MailerConfig, to string) error {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "steward@example.org"
	}
	cfg.Timeout = 10 * time.Second
	m, err := notify.NewMailer(cfg, clock.NewFake(t0))
	if err != nil {
		t.Fatal(err)
	}
	return m.Send(context.Background(), store.OutboxMessage{ID: 1, Kind: store.OutboxEmail, To: to, Subject: "s", Body: "BODY", CreatedAt: t0})
}

func TestSTARTTLSAndAuth(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{TLS: true, Username: "steward", Password: "hunter2"})
	cfg := notify.MailerConfig{Host: srv.Host(), Port: srv.Port(), Username: "steward", Password: "hunter2", TLS: srv.ClientTLS()}
	if err := send(t, cfg, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || !got[0].TLS || got[0].User != "steward" {
		t.Fatalf("not sent over TLS with AUTH: %+v", got)
	}

	// The certificate is verified: without the test CA the handshake fails.
	cfg.TLS = nil
	if err := send(t, cfg, "ana@example.org"); err == nil || notify.IsPermanent(err) {
		t.Fatalf("unverified certificate accepted (or failure permanent): %v", err)
	}
	// A wrong password is a temporary (configuration) failure.
	cfg.TLS, cfg.Password = srv.ClientTLS(), "wrong"
	if err := send(t, cfg, "ana@example.org"); err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("wrong password: %v", err)
	}
	if len(srv.Messages()) != 1 {
		t.Fatal("sent without valid credentials")
	}
}

func TestRequiredTLSRefusesPlainServer(t *testing.T) {
	srv := smtptest.Start(t)
	err := send(t, notify.MailerConfig{Host: srv.Host(), Port: srv.Port(), StartTLS: notify.StartTLSRequired}, "ana@example.org")
	if err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("required STARTTLS against a server without it: %v", err)
	}
	if srv.Attempts() != 0 {
		t.Fatal("message sent in clear")
	}
}

// Also pins go-smtp's error text for a server without STARTTLS, which
// opportunistic mode depends on.
func TestOpportunisticWithoutTLS(t *testing.T) {
	srv := smtptest.Start(t)
	if err := send(t, notify.MailerConfig{Host: srv.Host(), Port: srv.Port(), StartTLS: notify.StartTLSOpportunistic}, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].TLS {
		t.Fatalf("%+v", got)
	}
	tlsSrv := smtptest.StartWith(t, smtptest.Options{TLS: true})
	if err := send(t, notify.MailerConfig{Host: tlsSrv.Host(), Port: tlsSrv.Port(), StartTLS: notify.StartTLSOpportunistic, TLS: tlsSrv.ClientTLS()}, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := tlsSrv.Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("opportunistic did not use offered TLS: %+v", got)
	}
}

// Credentials may go in clear to a relay on this host.
func TestAuthInClearToLoopback(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{Username: "steward", Password: "hunter2"})
	if err := send(t, notify.MailerConfig{Host: srv.Host(), Port: srv.Port(), StartTLS: notify.StartTLSOff, Username: "steward", Password: "hunter2"}, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].User != "steward" {
		t.Fatalf("%+v", got)
	}
}

func TestTimeoutBoundsConversation(t *testing.T) {
	srv := smtptest.Start(t)
	_, release := srv.Hold()
	defer release()
	m, err := notify.NewMailer(notify.MailerConfig{Host: srv.Host(), Port: srv.Port(), From: "steward@example.org", StartTLS: notify.StartTLSOff, Timeout: 300 * time.Millisecond}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = m.Send(context.Background(), store.OutboxMessage{ID: 1, Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY"})
	// Whichever fires first: go-smtp's per-command deadline or ours.
	if err == nil || notify.IsPermanent(err) || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)) {
		t.Fatalf("hung server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("send took %s despite a 300ms timeout", d)
	}
}
