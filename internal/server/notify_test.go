package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/notify/smtptest"
	"github.com/steward-privacy/steward/internal/store"
)

// The configured SMTP server gets the outbox's mail once the node runs;
// Close waits for the worker before closing the store.
func TestOutboxDeliveredByNode(t *testing.T) {
	mail := smtptest.Start(t)
	cfg := testConfig(t, "")
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.From, cfg.SMTP.StartTLS = mail.Host(), mail.Port(), "steward@example.org", "off"
	n := startNode(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n.srv.Start(ctx)
	err := n.srv.Store.EnqueueOutbox(ctx, []store.OutboxMessage{{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "s", Body: "b", Ref: "t:1", CreatedAt: testNow}})
	if err != nil {
		t.Fatal(err)
	}
	n.srv.Notify.Wake()
	mail.WaitFor(1, 10*time.Second)
	n.srv.Close()
}

func TestBadSMTPSettingStopsStartup(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.SMTP.Host, cfg.SMTP.From, cfg.SMTP.StartTLS = "mail.example.net", "steward@example.org", "off"
	_, err := New(context.Background(), cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "allow_insecure") {
		t.Fatalf("clear-text SMTP to a remote host accepted: %v", err)
	}
}
