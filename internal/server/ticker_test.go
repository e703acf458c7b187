package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

// TestTickerRunsRequestsAndSessions: the server's one ticker carries the
// requests' deadlines and the session sweep, both on the node's clock.
func TestTickerRunsRequestsAndSessions(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "tick@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	sess := store.Session{ID: "s-tick", SecretHash: []byte("tick-secret-hash"), UserID: "u", Name: "desk@example.org", Role: "support",
		Method: "password", CreatedAt: testNow, ExpiresAt: testNow.Add(12 * time.Hour), CSRFSecret: []byte("c")}
	if err := n.srv.Store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := n.srv.Ticker.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.Store.SessionBySecretHash(ctx, sess.SecretHash); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
	n.clock.Advance(31 * 24 * time.Hour)
	if err := n.srv.Ticker.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := n.srv.Store.GetRequest(ctx, sub.Request.ID); r.Status != string(rights.Rejected) {
		t.Fatalf("unconfirmed request after 31 days: %s", r.Status)
	}
	if _, err := n.srv.Store.SessionBySecretHash(ctx, sess.SecretHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session kept: %v", err)
	}
}
