package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// checkpointKey is a server's checkpoint key derived from a fixed hashing
// key, as steward derives it (seed picks another server's).
func checkpointKey(t *testing.T, seed byte) ed25519.PrivateKey {
	k, err := minimise.NewKeyer(bytes.Repeat([]byte{seed}, minimise.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return accesslog.CheckpointKey(k)
}

func appendN(t *testing.T, s store.Store, n int, at time.Time) {
	t.Helper()
	var es []*store.AccessEntry
	for i := range n {
		es = append(es, accessEntry(fmt.Sprintf("actor%d", i), "d", at.Add(time.Duration(i)*time.Second), fmt.Sprintf("k%d", i%3), "kx"))
	}
	if err := s.AppendAccess(context.Background(), es, seal); err != nil {
		t.Fatal(err)
	}
}

func verifyWith(t *testing.T, s store.Store, opt accesslog.Options) accesslog.Result {
	t.Helper()
	res, err := accesslog.Verify(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// accessCheckpoints covers storing checkpoints, the Checkpointer's
// schedule, the witness copies it enqueues, and Verify against stored
// checkpoints, including forged ones.
func accessCheckpoints(t *testing.T, s store.Store) {
	ctx := context.Background()
	key := checkpointKey(t, 1)
	pub := key.Public().(ed25519.PublicKey)
	clk := clock.NewFake(t0)
	cp := &accesslog.Checkpointer{Store: s, Key: key, Clock: clk, Every: time.Hour,
		Witness: accesslog.Witness{Email: "auditor@example.org", Webhook: "auditors"}}

	if _, err := s.LatestAccessCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("latest of none: %v", err)
	}
	if _, added, err := cp.Take(ctx); added || err != nil {
		t.Fatalf("checkpoint of an empty log: %v %v", added, err)
	}
	appendN(t, s, 10, t0)
	c, added, err := cp.Take(ctx)
	if err != nil || !added || c.Seq != 10 {
		t.Fatalf("take: %+v %v %v", c, added, err)
	}
	head, _ := s.AccessHead(ctx)
	if got, err := s.LatestAccessCheckpoint(ctx); err != nil || got.Seq != 10 || !bytes.Equal(got.Hash, head.Hash) ||
		!got.SignedAt.Equal(t0) || got.Signed != c.Signed || got.ID == 0 {
		t.Fatalf("stored: %+v %v", got, err)
	}
	if _, err := accesslog.OpenCheckpoint(c.Signed, pub); err != nil {
		t.Fatalf("stored checkpoint does not verify: %v", err)
	}

	// (iv) the witness copies are in the outbox, committed with it, each
	// holding the signed document.
	msgs, err := s.ListOutbox(ctx, accesslog.CheckpointRef(10), 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("witness copies: %+v %v", msgs, err)
	}
	for _, m := range msgs {
		doc, err := accesslog.FindCheckpoint([]byte(m.Body))
		if err != nil || doc != c.Signed {
			t.Errorf("%s copy: %v, body %q", m.Kind, err, m.Body)
		}
		switch m.Kind {
		case store.OutboxEmail:
			if m.To != "auditor@example.org" || !strings.Contains(m.Subject, "entry 10") || !strings.Contains(m.Body, "steward log verify --checkpoint") {
				t.Errorf("e-mail copy: %+v", m)
			}
		case store.OutboxWebhook:
			if m.To != "auditors" || !json.Valid([]byte(m.Body)) || !strings.Contains(m.Body, `"text":`) {
				t.Errorf("webhook copy: %+v", m)
			}
		}
	}

	// Nothing new: no second checkpoint, no second message.
	if _, added, err := cp.Take(ctx); added || err != nil {
		t.Fatalf("second take of one head: %v %v", added, err)
	}
	// Another node signing the same head first: the store keeps one.
	if err := s.InTx(ctx, func(tx store.Tx) error {
		added, err := tx.AddAccessCheckpoint(ctx, accesslog.SignCheckpoint(key, 10, head.Hash, t0.Add(time.Second)))
		if added {
			return errors.New("a second checkpoint of entry 10 was added")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := s.ListOutbox(ctx, "access-checkpoint:", 10); len(msgs) != 2 {
		t.Fatalf("witness copies after a repeated head: %d", len(msgs))
	}

	// The schedule: due an hour after the latest, if entries came since.
	appendN(t, s, 3, t0.Add(time.Minute))
	clk.Advance(59 * time.Minute)
	if err := cp.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LatestAccessCheckpoint(ctx); got.Seq != 10 {
		t.Fatalf("checkpoint before it was due: %+v", got)
	}
	clk.Advance(time.Minute)
	if err := cp.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LatestAccessCheckpoint(ctx); got.Seq != 13 {
		t.Fatalf("checkpoint due after an hour: %+v", got)
	}
	cp.Every, cp.AfterEntries = 0, 5
	appendN(t, s, 4, t0.Add(2*time.Minute))
	cp.Tick(ctx)
	if got, _ := s.LatestAccessCheckpoint(ctx); got.Seq != 13 {
		t.Fatalf("checkpoint after 4 of 5 entries: %+v", got)
	}
	appendN(t, s, 1, t0.Add(3*time.Minute))
	cp.Tick(ctx)
	if got, _ := s.LatestAccessCheckpoint(ctx); got.Seq != 18 {
		t.Fatalf("checkpoint after 5 entries: %+v", got)
	}

	res := verifyWith(t, s, accesslog.Options{Key: pub})
	if res.Break != nil || res.Checked != 18 || res.Checkpoints != 3 || res.Latest.Seq != 18 {
		t.Fatalf("verify: %+v", res)
	}
	if _, err := accesslog.Verify(ctx, s, accesslog.Options{}); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("verify of stored checkpoints without a key: %v", err)
	}
	// A witnessed copy of a stored checkpoint.
	res = verifyWith(t, s, accesslog.Options{Key: pub, Witnessed: []accesslog.Witnessed{{Name: "mail", Signed: c.Signed}}})
	if res.Break != nil || res.Witnessed != 1 {
		t.Fatalf("verify with a witnessed copy: %+v", res.Break)
	}

}

// forgedCheckpoints: (iii) checkpoints that do not verify under the
// server's key are reported by name, at the entry they name: one signed
// by another key, one whose content was changed after signing, and a
// forged copy from the witness. Each on a fresh store, since a stored
// checkpoint cannot be removed.
func forgedCheckpoints(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	key := checkpointKey(t, 1)
	pub := key.Public().(ed25519.PublicKey)
	for _, c := range []struct {
		name string
		cp   func(s store.Store) store.AccessCheckpoint
		want string
	}{
		{"OtherKey", func(s store.Store) store.AccessCheckpoint {
			return accesslog.SignCheckpoint(checkpointKey(t, 2), 5, entryAt(t, s, 5).Hash, t0)
		}, "another key"},
		{"Altered", func(s store.Store) store.AccessCheckpoint {
			c := accesslog.SignCheckpoint(key, 3, entryAt(t, s, 4).Hash, t0)
			c.Seq, c.Signed = 4, strings.Replace(c.Signed, `"seq":3`, `"seq":4`, 1)
			return c
		}, "does not match its content"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			appendN(t, s, 6, t0)
			forged := c.cp(s)
			if err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.AddAccessCheckpoint(ctx, forged); return err }); err != nil {
				t.Fatal(err)
			}
			br := verifyWith(t, s, accesslog.Options{Key: pub}).Break
			if br == nil || !br.Forged || br.Seq != forged.Seq || !strings.Contains(br.Reason, c.want) ||
				!strings.Contains(br.Reason, fmt.Sprintf("checkpoint #1 (entry %d,", forged.Seq)) {
				t.Fatalf("%+v, want a forged checkpoint at entry %d (%s)", br, forged.Seq, c.want)
			}
		})
	}
	t.Run("Witnessed", func(t *testing.T) {
		s := open(t)
		appendN(t, s, 2, t0)
		other := accesslog.SignCheckpoint(checkpointKey(t, 2), 1, entryAt(t, s, 1).Hash, t0)
		br := verifyWith(t, s, accesslog.Options{Key: pub, Witnessed: []accesslog.Witnessed{{Name: "mail.txt", Signed: other.Signed}}}).Break
		if br == nil || !br.Forged || !strings.Contains(br.Reason, "mail.txt") || !strings.Contains(br.Reason, "another key") {
			t.Fatalf("forged witnessed copy: %+v", br)
		}
	})
}

func entryAt(t *testing.T, s store.Store, seq int64) store.AccessEntry {
	t.Helper()
	var got store.AccessEntry
	if err := s.ScanAccess(context.Background(), seq-1, seq, func(e *store.AccessEntry) error { got = *e; return nil }); err != nil || got.Seq != seq {
		t.Fatalf("entry %d: %+v %v", seq, got, err)
	}
	return got
}
