package notify_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/notify/smtptest"
	"github.com/steward-privacy/steward/internal/store"
)

func loadConfig(t *testing.T, yaml string, env map[string]string) *config.Config {
	t.Helper()
	file := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := config.FlagSet(fs)
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	if err := config.Load(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	return c
}

// From the config file to a delivered message, with the password from the
// environment.
func TestSendersFromConfig(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{Username: "steward", Password: "hunter2"})
	hook := startHook(t)
	c := loadConfig(t, `
smtp:
  host: `+srv.Host()+`
  port: `+strings.TrimPrefix(srv.Addr, srv.Host()+":")+`
  from: Steward <steward@example.org>
  username: steward
  starttls: off # unquoted: still the word, not YAML 1.1 false
webhooks:
  ops: `+hook.URL+`/services/SECRET/x
`, map[string]string{"STEWARD_SMTP_PASSWORD": "hunter2"})
	e := newEnv(t)
	var err error
	e.worker.Mail, e.worker.Webhook, err = notify.SendersFromConfig(c, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: "f1"})
	e.enqueue(store.OutboxMessage{Kind: store.OutboxWebhook, To: "ops", Body: `{"text":"BODY"}`, Ref: "f2"})
	e.runOnce(2)
	if got := srv.Messages(); len(got) != 1 || got[0].User != "steward" {
		t.Fatalf("smtp: %+v", got)
	}
	if len(hook.received()) != 1 {
		t.Fatal("webhook not called")
	}

	// No SMTP server: mail goes to the local mailbox in the data folder;
	// no webhooks: a true nil sender, so the worker reports "not
	// configured" instead of calling a nil pointer.
	dir := t.TempDir()
	mail, webhook, err := notify.SendersFromConfig(loadConfig(t, "addr: 127.0.0.1:1\ndata: "+dir+"\n", nil), e.clock)
	if box, ok := mail.(*notify.Mailbox); err != nil || !ok || box.Dir != filepath.Join(dir, "mail") || webhook != nil {
		t.Fatalf("%v %v %v", mail, webhook, err)
	}
	// A bad setting is an error naming no secret.
	_, _, err = notify.SendersFromConfig(loadConfig(t, "smtp:\n  host: mail.example.net\n  from: steward@example.net\n  starttls: \"off\"\n  password: hunter2\n", nil), e.clock)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("clear text to a remote host: %v", err)
	}
}
