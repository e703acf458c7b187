package notify_test

import (
	"bytes"
	"errors"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
)

func sealer(t testing.TB, key string) *notify.Sealer {
	t.Helper()
	k, err := minimise.NewKeyer([]byte(key + strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return notify.NewSealer(k)
}

// The secrets of these tests: a status page link and a confirmation link.
const (
	statusLink  = "https://steward.test/privacy/requests/r-1?token=tok3n5ecretvalue"
	confirmLink = "https://steward.test/privacy/requests/r-1/confirm?token=tok3n5ecretvalue&code=c0de5ecret"
)

func sealedMail(t testing.TB, s *notify.Sealer) store.OutboxMessage {
	t.Helper()
	m := store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "Please confirm",
		Body: "Confirm: " + notify.Placeholder("confirmation link") + "\nFollow: " + notify.Placeholder("status page link") + "\nBODY\n",
		Ref:  "request:r-1:confirm", CreatedAt: t0}
	if err := s.Seal(&m, map[string]string{"confirmation link": confirmLink, "status page link": statusLink}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSealAndOpen(t *testing.T) {
	s := sealer(t, "one")
	m := sealedMail(t, s)
	for _, secret := range []string{"tok3n5ecret", "c0de5ecret", "steward.test/privacy"} {
		if bytes.Contains(m.SealedSecrets, []byte(secret)) || strings.Contains(m.Body, secret) {
			t.Fatalf("%q is in the sealed message in clear", secret)
		}
	}
	if again := sealedMail(t, s); bytes.Equal(again.SealedSecrets, m.SealedSecrets) {
		t.Fatal("two seals of one message are equal: the nonce is not random")
	}
	out, err := s.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Confirm: " + confirmLink + "\nFollow: " + statusLink + "\nBODY\n"; out.Body != want || out.SealedSecrets != nil || out.Subject != m.Subject {
		t.Fatalf("opened: %+v", out)
	}
	// Another node with the same key opens it too.
	if _, err := sealer(t, "one").Open(m); err != nil {
		t.Fatalf("same key, another sealer: %v", err)
	}
	// What the history shows, before and after sending.
	if got := notify.Redacted(m.Body, false); !strings.Contains(got, "Confirm: confirmation link (sealed until sent)\n") {
		t.Fatalf("redacted, waiting: %q", got)
	}
	if got := notify.Redacted(m.Body, true); got != "Confirm: confirmation link (removed after sending)\nFollow: status page link (removed after sending)\nBODY\n" {
		t.Fatalf("redacted, sent: %q", got)
	}
	// A message without secrets is sealed as nothing and opens as itself.
	plain := store.OutboxMessage{Kind: store.OutboxEmail, To: "a@example.org", Body: "BODY"}
	if err := s.Seal(&plain, nil); err != nil || plain.SealedSecrets != nil {
		t.Fatalf("no secrets: %x %v", plain.SealedSecrets, err)
	}
	if out, err := s.Open(plain); err != nil || out.Body != "BODY" {
		t.Fatalf("open without secrets: %+v %v", out, err)
	}
}

// TestOpenRefuses: under another key, or once anything it is bound to
// changed, a message's secrets do not open, and the error says which.
func TestOpenRefuses(t *testing.T) {
	s := sealer(t, "one")
	m := sealedMail(t, s)
	if _, err := sealer(t, "two").Open(m); !errors.Is(err, notify.ErrSecretsOtherKey) {
		t.Fatalf("another key: %v", err)
	}
	for name, change := range map[string]func(*store.OutboxMessage){
		"recipient":  func(m *store.OutboxMessage) { m.To = "mallory@example.org" },
		"body":       func(m *store.OutboxMessage) { m.Body = "Click: " + notify.Placeholder("confirmation link") },
		"subject":    func(m *store.OutboxMessage) { m.Subject = "Hi" },
		"ref":        func(m *store.OutboxMessage) { m.Ref = "request:r-2:confirm" },
		"kind":       func(m *store.OutboxMessage) { m.Kind = store.OutboxWebhook },
		"ciphertext": func(m *store.OutboxMessage) { m.SealedSecrets[len(m.SealedSecrets)-1] ^= 1 },
		"version":    func(m *store.OutboxMessage) { m.SealedSecrets[0] = 9 },
		"truncated":  func(m *store.OutboxMessage) { m.SealedSecrets = m.SealedSecrets[:3] },
	} {
		c := m
		c.SealedSecrets = bytes.Clone(m.SealedSecrets)
		change(&c)
		out, err := s.Open(c)
		if !errors.Is(err, notify.ErrSecretsAltered) {
			t.Errorf("%s changed: %v", name, err)
		}
		if strings.Contains(out.Body, "tok3n") || strings.Contains(err.Error(), "tok3n") {
			t.Errorf("%s changed: a secret came out", name)
		}
	}
}

func TestSealRefuses(t *testing.T) {
	s := sealer(t, "one")
	for name, c := range map[string]struct {
		body    string
		secrets map[string]string
	}{
		"no placeholder":     {"Confirm: here", map[string]string{"confirmation link": confirmLink}},
		"value in clear too": {"⟦link⟧ or " + statusLink, map[string]string{"link": statusLink}},
		"empty value":        {"⟦link⟧", map[string]string{"link": ""}},
		"bad name":           {"⟦a⟧b⟧", map[string]string{"a⟧b": "x"}},
	} {
		m := store.OutboxMessage{Kind: store.OutboxEmail, To: "a@example.org", Body: c.body}
		err := s.Seal(&m, c.secrets)
		if err == nil || m.SealedSecrets != nil {
			t.Errorf("%s: sealed", name)
		} else if strings.Contains(err.Error(), "tok3n") {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
	if got := notify.Defang("see ⟦status page link⟧"); got != "see [status page link]" {
		t.Fatalf("defang: %q", got)
	}
}

// A webhook's body is JSON: a secret put into one of its strings is
// escaped as JSON.
func TestSealWebhook(t *testing.T) {
	s := sealer(t, "one")
	m := store.OutboxMessage{Kind: store.OutboxWebhook, To: "ops", Body: `{"text":"open ⟦link⟧"}`, Ref: "w"}
	if err := s.Seal(&m, map[string]string{"link": `https://x.test/?a="b"&c=\d`}); err != nil {
		t.Fatal(err)
	}
	out, err := s.Open(m)
	if err != nil || out.Body != `{"text":"open https://x.test/?a=\"b\"\u0026c=\\d"}` {
		t.Fatalf("%q %v", out.Body, err)
	}
}

const (
	oldToken = "0123456789abcdef0123456789abcdef0123456789a"
	oldCode  = "abcdefghijkmnpqrstuvwxyz23456789abcdefg"
)

var oldBody = "Confirm:\n  https://steward.test/privacy/requests/r-1/confirm?token=" + oldToken + "&code=" + oldCode +
	"\nFollow:\n  https://steward.test/privacy/requests/r-1?token=" + oldToken + "\nBODY ?token=" + strings.Repeat("f", 44) + " &code=short\n"

func TestSealLegacy(t *testing.T) {
	s := sealer(t, "one")
	m := store.OutboxMessage{Kind: store.OutboxEmail, To: "a@example.org", Subject: "Confirm", Body: oldBody, Ref: "r"}
	sealed, ok, err := s.SealLegacy(m)
	if err != nil || !ok {
		t.Fatalf("seal legacy: %v %v", ok, err)
	}
	want := "Confirm:\n  https://steward.test/privacy/requests/r-1/confirm?token=⟦status token⟧&code=⟦confirmation code⟧" +
		"\nFollow:\n  https://steward.test/privacy/requests/r-1?token=⟦status token⟧\nBODY ?token=" + strings.Repeat("f", 44) + " &code=short\n"
	if sealed.Body != want {
		t.Fatalf("sealed body:\n%s\nwant:\n%s", sealed.Body, want)
	}
	if out, err := s.Open(sealed); err != nil || out.Body != oldBody {
		t.Fatalf("opened: %q %v", out.Body, err)
	}
	if _, ok, _ := s.SealLegacy(sealed); ok {
		t.Fatal("a sealed message sealed again")
	}
	if _, ok, _ := s.SealLegacy(store.OutboxMessage{Kind: store.OutboxEmail, Body: "no links ?token=abc"}); ok {
		t.Fatal("a message without secrets sealed")
	}
}

// TestWorkerSealedSecrets: the worker sends a sealed message with its
// secrets in place and keeps none of them once sent; a message it cannot
// open, or that is given up, is not sent and keeps none either.
func TestWorkerSealedSecrets(t *testing.T) {
	e := newEnv(t)
	s := sealer(t, "one")
	e.worker.Sealer = s
	seal := func(s *notify.Sealer, to, ref string) store.OutboxMessage {
		m := sealedMail(t, s)
		m.To, m.Ref = to, ref
		if err := s.Seal(&m, map[string]string{"confirmation link": confirmLink, "status page link": statusLink}); err != nil {
			t.Fatal(err)
		}
		return e.enqueue(m)
	}
	good := seal(s, "ana@example.org", "request:r-1:confirm")
	seal(sealer(t, "two"), "ana@example.org", "request:r-1:other") // by a node with another key
	e.smtp.Reject("bo@example.org")
	seal(s, "bo@example.org", "request:r-2:confirm")
	e.runOnce(3)

	msgs := e.smtp.Messages()
	if len(msgs) != 1 || e.smtp.Attempts() != 1 {
		t.Fatalf("%d messages accepted, %d attempts; want 1 and 1", len(msgs), e.smtp.Attempts())
	}
	parsed, _ := msgs[0].Parse()
	body, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if !strings.Contains(strings.ReplaceAll(string(body), "\r\n", "\n"), "Confirm: "+confirmLink+"\nFollow: "+statusLink) {
		t.Fatalf("delivered: %q", body)
	}
	if m := e.get("request:r-1:confirm"); m.SentAt.IsZero() || m.SealedSecrets != nil || m.Body != good.Body {
		t.Fatalf("sent: %+v", m)
	}
	if m := e.get("request:r-1:other"); m.FailedAt.IsZero() || m.Attempts != 1 || m.SealedSecrets != nil || m.LastError != notify.ErrSecretsOtherKey.Error() {
		t.Fatalf("another key: %+v", m)
	}
	if m := e.get("request:r-2:confirm"); m.FailedAt.IsZero() || m.SealedSecrets != nil {
		t.Fatalf("given up: %+v", m)
	}
	if logs := e.logs.String(); strings.Contains(logs, "tok3n") || strings.Contains(logs, "c0de") || !strings.Contains(logs, "another hashing key") {
		t.Fatalf("logs: %s", logs)
	}
	e.store.Close()
	raw, _ := filepath.Glob(e.path + "*")
	for _, f := range raw {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte("tok3n5ecret")) || bytes.Contains(b, []byte("c0de5ecret")) {
			t.Errorf("%s holds a secret", filepath.Base(f))
		}
	}
}

// A worker without the key gives sealed messages up rather than send
// placeholders.
func TestWorkerWithoutSealer(t *testing.T) {
	e := newEnv(t)
	e.enqueue(sealedMail(t, sealer(t, "one")))
	e.runOnce(1)
	if m := e.get("request:r-1:confirm"); m.FailedAt.IsZero() || m.SealedSecrets != nil || m.LastError != notify.ErrSecretsNoKey.Error() || e.smtp.Attempts() != 0 {
		t.Fatalf("%+v, %d attempts", m, e.smtp.Attempts())
	}
}

// TestWorkerSealsLegacyMail: mail queued before secrets were sealed is
// sealed when claimed (so while it is being sent, and if the send fails,
// the row holds no secret in clear), sent as it was written, and once sent
// keeps no secret.
func TestWorkerSealsLegacyMail(t *testing.T) {
	e := newEnv(t)
	e.worker.Sealer = sealer(t, "one")
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "Please confirm", Body: oldBody, Ref: "old"})
	e.smtp.FailNext(1)
	e.runOnce(1)
	m := e.get("old")
	if !m.SentAt.IsZero() || len(m.SealedSecrets) == 0 || strings.Contains(m.Body, oldCode) || strings.Contains(m.Body, oldToken) {
		t.Fatalf("after a failed attempt: %+v", m)
	}
	e.clock.Advance(time.Minute)
	e.runOnce(1)
	parsed, _ := e.smtp.Messages()[0].Parse()
	body, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if strings.ReplaceAll(string(body), "\r\n", "\n") != oldBody {
		t.Fatalf("delivered:\n%q\nwant:\n%q", body, oldBody)
	}
	if m := e.get("old"); m.SentAt.IsZero() || m.SealedSecrets != nil || strings.Contains(m.Body, oldCode) {
		t.Fatalf("sent: %+v", m)
	}
}

// BenchmarkSealOpen is the cost sealing adds to one message: one seal when
// it is written, one open when it is sent.
func BenchmarkSealOpen(b *testing.B) {
	s := sealer(b, "one")
	base := sealedMail(b, s)
	base.SealedSecrets = nil
	secrets := map[string]string{"confirmation link": confirmLink, "status page link": statusLink}
	for b.Loop() {
		m := base
		if err := s.Seal(&m, secrets); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Open(m); err != nil {
			b.Fatal(err)
		}
	}
}
