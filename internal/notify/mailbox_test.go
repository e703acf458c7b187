package notify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
)

// With no SMTP server, the worker delivers to the local mailbox: one file
// per message, on disk before the row is marked sent, read back decoded.
func TestMailboxDelivery(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(t.TempDir(), "mail")
	box, err := notify.NewMailbox(dir, "", e.clock)
	if err != nil {
		t.Fatal(err)
	}
	e.worker.Mail = box
	long := "http://127.0.0.1:8080/privacy/requests/r-0123456789abcdef/confirm?token=" + strings.Repeat("f", 43) + "&code=" + strings.Repeat("C", 39)
	first := e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "Zoë <zoe@example.org>", Subject: "Bitte bestätigen",
		Body: "Hello,\n\nopen this link:\n\n  " + long + "\n\nBODY\n", Ref: "m1"})
	e.clock.Advance(time.Second)
	second := e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "Second", Body: "BODY two", Ref: "m2"})
	e.runOnce(2)

	for _, ref := range []string{"m1", "m2"} {
		if m := e.get(ref); m.SentAt.IsZero() || m.LastError != "" {
			t.Fatalf("%s not recorded as sent: %+v", ref, m)
		}
	}
	list, err := notify.ListMailbox(dir)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %+v", err, list)
	}
	if list[0].ID != first.ID || list[1].ID != second.ID || list[0].To != "Zoë <zoe@example.org>" || list[0].Subject != "Bitte bestätigen" ||
		list[0].From != "steward <steward@localhost>" || !list[0].Date.Equal(t0.Add(time.Second)) {
		t.Fatalf("entries: %+v", list)
	}
	// The link survives quoted-printable whole, as a person copies it.
	m, err := notify.ReadMailbox(dir, "1")
	if err != nil || !strings.Contains(m.Body, "  "+long+"\n") || strings.Contains(m.Body, "\r") {
		t.Fatalf("read: %v\n%s", err, m.Body)
	}
	if latest, err := notify.ReadMailbox(dir, "latest"); err != nil || latest.ID != second.ID || latest.Body != "BODY two\n" {
		t.Fatalf("latest: %v %+v", err, latest)
	}
	if byName, err := notify.ReadMailbox(dir, list[1].File); err != nil || byName.ID != second.ID {
		t.Fatalf("by file name: %v %+v", err, byName)
	}
	for _, bad := range []string{"99", "../secret.key", "0", "x"} {
		if _, err := notify.ReadMailbox(dir, bad); err == nil {
			t.Errorf("ReadMailbox(%q) found something", bad)
		}
	}
	if _, err := notify.ReadMailbox(dir, "99"); !errors.Is(err, notify.ErrNoMail) {
		t.Errorf("unknown id: %v", err)
	}

	// Private to steward's user, like the hashing key.
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode().Perm())
	}
	for _, en := range list {
		fi, _ := os.Stat(filepath.Join(dir, en.File))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", en.File, fi.Mode().Perm())
		}
	}

	// A resend (the worker died after writing, before recording) is the
	// same file again, not a second copy; nothing temporary is left.
	if err := box.Send(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 2 {
		t.Fatalf("after a resend the folder holds %d files", len(des))
	}
}

// A message that cannot be written as mail is given up, as over SMTP; a
// folder that cannot be written is retried.
func TestMailboxFailures(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	box, err := notify.NewMailbox(filepath.Join(dir, "mail"), "", e.clock)
	if err != nil {
		t.Fatal(err)
	}
	e.worker.Mail = box
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "a@example.org\r\nBcc: b@example.org", Body: "BODY", Ref: "bad"})
	// A file where the folder should be: every write fails.
	if err := os.WriteFile(filepath.Join(dir, "mail"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "c@example.org", Body: "BODY", Ref: "blocked"})
	e.runOnce(2)
	if m := e.get("bad"); m.FailedAt.IsZero() {
		t.Errorf("header injection not given up: %+v", m)
	}
	if m := e.get("blocked"); !m.SentAt.IsZero() || !m.FailedAt.IsZero() || !strings.Contains(m.LastError, "local mailbox") {
		t.Errorf("unwritable mailbox: %+v", m)
	}
	if _, err := notify.NewMailbox(dir, "not an address", e.clock); err == nil {
		t.Error("a bad sender was accepted")
	}
}
