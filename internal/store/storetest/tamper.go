package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

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
		for _, q := range []string{"UPDATE access_log SET records = 999 WHERE seq = 5", "DELETE FROM access_log WHERE seq = 5",
			"UPDATE access_log_subjects SET subject_key = 'x' WHERE seq = 5", "DELETE FROM access_log_subjects WHERE seq = 5"} {
			if err := raw(t, false, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the append-only refusal", q, err)
			}
		}
		if res, err := accesslog.Verify(context.Background(), s); err != nil || res.Break != nil || res.Checked != 10 {
			t.Fatalf("after refused changes: %+v %v", res, err)
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
		{"Reordered", []string{"UPDATE access_log SET seq = -3 WHERE seq = 3", "UPDATE access_log SET seq = 3 WHERE seq = 4",
			"UPDATE access_log SET seq = 4 WHERE seq = -3"}, 3, "does not link"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, raw := fill(t)
			if err := raw(t, true, c.sql...); err != nil {
				t.Fatal(err)
			}
			res, err := accesslog.Verify(context.Background(), s)
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
