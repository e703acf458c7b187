package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/notify/smtptest"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// logBuffer collects a worker's JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is one node: a SQLite store, a fake clock, an SMTP server and a
// worker sending to it.
type env struct {
	t      *testing.T
	path   string
	store  store.Store
	clock  *clock.Fake
	logs   *logBuffer
	smtp   *smtptest.Server
	mailer *notify.Mailer
	worker *notify.Worker
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "steward.db"), clock: clock.NewFake(t0), logs: &logBuffer{}}
	e.store = openStore(t, e.path)
	e.smtp = smtptest.Start(t)
	var err error
	e.mailer, err = notify.NewMailer(notify.MailerConfig{
		Host: e.smtp.Host(), Port: e.smtp.Port(), From: "Steward <steward@example.org>",
		StartTLS: notify.StartTLSOff, Timeout: 10 * time.Second, HeloName: "steward.test",
	}, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	e.worker = e.newWorker(e.store)
	t.Cleanup(func() { e.checkLogs() })
	return e
}

func (e *env) newWorker(st store.Outbox) *notify.Worker {
	return &notify.Worker{
		Store: st, Clock: e.clock, Log: slog.New(slog.NewJSONHandler(e.logs, nil)),
		Mail: e.mailer,
	}
}

// enqueue stores msg (created now) and returns it as stored.
func (e *env) enqueue(msg store.OutboxMessage) store.OutboxMessage {
	e.t.Helper()
	if msg.CreatedAt.IsZero() {
		msg.CreatedAt = e.clock.Now()
	}
	if err := e.store.EnqueueOutbox(context.Background(), []store.OutboxMessage{msg}); err != nil {
		e.t.Fatal(err)
	}
	return e.get(msg.Ref)
}

// get returns the one message whose ref is ref.
func (e *env) get(ref string) store.OutboxMessage {
	e.t.Helper()
	got, err := e.store.ListOutbox(context.Background(), ref, 10)
	if err != nil || len(got) != 1 {
		e.t.Fatalf("outbox %s: %v %+v", ref, err, got)
	}
	return got[0]
}

func (e *env) runOnce(want int) {
	e.t.Helper()
	n, err := e.worker.RunOnce(context.Background())
	if err != nil || n != want {
		e.t.Fatalf("RunOnce handled %d (want %d): %v", n, want, err)
	}
}

// secrets are strings no log line may contain: recipient addresses (all
// tests use example.org or example.net), bodies (they contain "BODY"),
// the SMTP password and webhook URLs (their path contains "SECRET").
var secrets = []string{"example.org", "example.net", "BODY", "hunter2", "SECRET"}

func (e *env) checkLogs() {
	logs := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			e.t.Errorf("a log line contains %q:\n%s", s, logs)
		}
	}
}
