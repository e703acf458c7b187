package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
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

// TestTickerSignsCheckpoints: the ticker signs the access log's head when
// an hour has passed since the latest checkpoint (on the node's clock),
// each checkpoint is queued for the witness, and shutdown signs the last
// entries.
func TestTickerSignsCheckpoints(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.CheckpointEmail = "auditor@example.org"
	n := startNode(t, cfg)
	ctx := context.Background()
	// Started (shutdown signs only a node that served), with the
	// background loops stopped at once: the test ticks by hand.
	stopped, stop := context.WithCancel(ctx)
	stop()
	n.srv.Start(stopped)
	read := func() {
		t.Helper()
		if err := n.srv.Access.Append(ctx, &store.AccessEntry{At: n.clock.Now(), Actor: "a", Role: "auditor", Decision: "allowed"}); err != nil {
			t.Fatal(err)
		}
	}
	latest := func() int64 {
		t.Helper()
		c, err := n.srv.Store.LatestAccessCheckpoint(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return 0
		} else if err != nil {
			t.Fatal(err)
		}
		return c.Seq
	}
	read()
	if err := n.srv.Ticker.Tick(ctx); err != nil || latest() != 1 {
		t.Fatalf("first tick: %v, checkpoint at %d", err, latest())
	}
	read()
	n.clock.Advance(59 * time.Minute)
	if n.srv.Ticker.Tick(ctx); latest() != 1 {
		t.Fatalf("checkpoint before an hour: %d", latest())
	}
	n.clock.Advance(time.Minute)
	if n.srv.Ticker.Tick(ctx); latest() != 2 {
		t.Fatalf("checkpoint after an hour: %d", latest())
	}
	if msgs, err := n.srv.Store.ListOutbox(ctx, "access-checkpoint:", 10); err != nil || len(msgs) != 2 || msgs[1].To != "auditor@example.org" {
		t.Fatalf("witness copies: %+v %v", msgs, err)
	}
	read()
	n.srv.Close()
	st, err := backends.Open(ctx, "", cfg.DataDir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, err := st.LatestAccessCheckpoint(ctx); err != nil || c.Seq != 3 {
		t.Fatalf("checkpoint at shutdown: %+v %v", c, err)
	}
}
