package storetest

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

func pub(t *testing.T) ed25519.PublicKey { return checkpointKey(t, 1).Public().(ed25519.PublicKey) }

// checkpoint signs the head now, with a witness by e-mail.
func checkpoint(t *testing.T, s store.Store) store.AccessCheckpoint {
	t.Helper()
	cp := &accesslog.Checkpointer{Store: s, Key: checkpointKey(t, 1), Clock: clock.NewFake(t0.Add(2 * time.Hour)),
		Witness: accesslog.Witness{Email: "auditor@example.org"}}
	c, added, err := cp.Take(context.Background())
	if err != nil || !added {
		t.Fatalf("checkpoint: %v %v", added, err)
	}
	got, err := s.LatestAccessCheckpoint(context.Background())
	if err != nil || got.Seq != c.Seq {
		t.Fatalf("checkpoint: %+v %v", got, err)
	}
	return got
}

// rechain returns the SQL an insider runs to change entry seq (set, and
// change in Go to hash it) and recompute the hash of it and of every
// entry after it, so that each still links to the one before.
func rechain(t *testing.T, s store.Store, seq int64, set string, change func(*store.AccessEntry)) []string {
	t.Helper()
	var es []*store.AccessEntry
	if err := s.ScanAccess(context.Background(), 0, math.MaxInt64, func(e *store.AccessEntry) error { es = append(es, e); return nil }); err != nil {
		t.Fatal(err)
	}
	blob := func(b []byte) string {
		if s.Backend() == "postgres" {
			return `'\x` + hex.EncodeToString(b) + `'::bytea`
		}
		return "X'" + hex.EncodeToString(b) + "'"
	}
	var stmts []string
	for i := seq - 1; i < int64(len(es)); i++ {
		e := es[i]
		var prev []byte
		if i > 0 {
			prev = es[i-1].Hash
		}
		sets := ""
		if e.Seq == seq {
			change(e)
			sets = set + ", "
		}
		accesslog.Seal(e, prev)
		stmts = append(stmts, fmt.Sprintf("UPDATE access_log SET %sprev_hash = %s, hash = %s WHERE seq = %d", sets, blob(e.PrevHash), blob(e.Hash), e.Seq))
	}
	return stmts
}

// Raw runs SQL straight on a backend's database. With bypass it acts as
// the database owner who disables the append-only triggers first, which
// is what an attacker with the owner's credentials (or the file) can do.
type Raw func(t *testing.T, bypass bool, statements ...string) error

// Tamper shows that the append-only triggers refuse changes, and that
// edits, deletions and reorderings made around them are named by Verify
// at exactly the entry touched. open returns a fresh store and its Raw.
func Tamper(t *testing.T, open func(t *testing.T) (store.Store, Raw)) {
	fill := func(t *testing.T) (store.Store, Raw) {
		s, raw := open(t)
		var es []*store.AccessEntry
		for i := range 10 {
			es = append(es, accessEntry(fmt.Sprintf("actor%d", i), "d", t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("k%d", i)))
		}
		if err := s.AppendAccess(context.Background(), es, seal); err != nil {
			t.Fatal(err)
		}
		return s, raw
	}
	t.Run("TriggersRefuse", func(t *testing.T) {
		s, raw := fill(t)
		checkpoint(t, s)
		for _, q := range []string{"UPDATE access_log SET records = 999 WHERE seq = 5", "DELETE FROM access_log WHERE seq = 5",
			"UPDATE access_log_subjects SET subject_key = 'x' WHERE seq = 5", "DELETE FROM access_log_subjects WHERE seq = 5",
			"UPDATE access_checkpoints SET seq = 9", "DELETE FROM access_checkpoints"} {
			if err := raw(t, false, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the append-only refusal", q, err)
			}
		}
		if res, err := accesslog.Verify(context.Background(), s, accesslog.Options{Key: pub(t)}); err != nil || res.Break != nil || res.Checked != 10 || res.Checkpoints != 1 {
			t.Fatalf("after refused changes: %+v %v", res, err)
		}
	})
	// (b) An insider changes one entry and recomputes every hash after it:
	// the chain holds, but the checkpoint signed before the rewrite no
	// longer matches. Deleting the checkpoint as well leaves only the
	// witness's copy to tell, and it does.
	t.Run("RewrittenAndRechained", func(t *testing.T) {
		ctx := context.Background()
		s, raw := fill(t)
		c := checkpoint(t, s) // at entry 10
		appendN(t, s, 5, t0.Add(time.Hour))
		later := checkpoint(t, s) // at entry 15
		if err := raw(t, true, rechain(t, s, 3, "actor = 'someone else'", func(e *store.AccessEntry) { e.Actor = "someone else" })...); err != nil {
			t.Fatal(err)
		}
		res := verifyWith(t, s, accesslog.Options{Key: pub(t)})
		if br := res.Break; br == nil || br.Seq != 10 || !strings.Contains(br.Reason, accesslog.CheckpointName(c)) ||
			!strings.Contains(br.Reason, "an entry from 1 to 10 was rewritten") || res.Checked != 9 {
			t.Fatalf("verify after the rewrite: %+v (checked %d), want a break at entry 10 naming %s", br, res.Checked, accesslog.CheckpointName(c))
		}
		// The chain alone holds: that is the hole checkpoints close.
		if err := raw(t, true, "DELETE FROM access_checkpoints"); err != nil {
			t.Fatal(err)
		}
		if res := verifyWith(t, s, accesslog.Options{Key: pub(t)}); res.Break != nil || res.Checked != 15 {
			t.Fatalf("verify of the rechained log without its checkpoints: %+v", res.Break)
		}
		msgs, err := s.ListOutbox(ctx, accesslog.CheckpointRef(later.Seq), 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("witness copy: %+v %v", msgs, err)
		}
		doc, err := accesslog.FindCheckpoint([]byte(msgs[0].Body))
		if err != nil {
			t.Fatal(err)
		}
		res = verifyWith(t, s, accesslog.Options{Key: pub(t), Witnessed: []accesslog.Witnessed{{Name: "auditor-mail.txt", Signed: doc}}})
		if br := res.Break; br == nil || br.Seq != 15 || !strings.Contains(br.Reason, "the checkpoint from auditor-mail.txt (entry 15") {
			t.Fatalf("verify against the witness copy: %+v", br)
		}
	})
	for _, c := range []struct {
		name   string
		sql    []string
		seq    int64
		reason string
	}{
		{"EditedField", []string{"UPDATE access_log SET records = 999 WHERE seq = 5"}, 5, "edited"},
		{"EditedActor", []string{"UPDATE access_log SET actor = 'someone else' WHERE seq = 2"}, 2, "edited"},
		{"Deleted", []string{"DELETE FROM access_log WHERE seq = 7"}, 7, "missing"},
		{"InsertedBelow", []string{"INSERT INTO access_log SELECT -1, at, actor, auth_method, credential_id, role, purpose, dataset, query, records, subjects, subject_keys, client_net, decision, reason, hash || hash, prev_hash || hash FROM access_log WHERE seq = 1"}, -1, "inserted"},
		// The subject index is what GET /v1/access-log?subject_key= reads:
		// rows removed from it hide a read of one person from that query.
		{"SubjectIndexDeleted", []string{"DELETE FROM access_log_subjects WHERE seq = 4"}, 4, "subject index"},
		{"SubjectIndexAdded", []string{"INSERT INTO access_log_subjects(subject_key, seq) VALUES ('k9', 6)"}, 6, "subject index"},
		{"Reordered", []string{"UPDATE access_log SET seq = -3 WHERE seq = 3", "UPDATE access_log SET seq = 3 WHERE seq = 4",
			"UPDATE access_log SET seq = 4 WHERE seq = -3"}, 3, "does not link"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, raw := fill(t)
			if err := raw(t, true, c.sql...); err != nil {
				t.Fatal(err)
			}
			res, err := accesslog.Verify(context.Background(), s, accesslog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Break == nil || res.Break.Seq != c.seq || !strings.Contains(res.Break.Reason, c.reason) {
				t.Fatalf("verify: %+v, want a break at %d (%s)", res.Break, c.seq, c.reason)
			}
			if c.seq > 0 && res.Checked != c.seq-1 {
				t.Errorf("checked %d entries before the break, want %d", res.Checked, c.seq-1)
			}
		})
	}
}
