package connectors

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

// A purge right after deactivation (a grace period of zero) waits until
// every node is known to drop the keys; one after a longer grace period
// does not wait at all.
func TestPurgeWaitsForEveryNodeToSuppress(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	reg, _ := registry.Default()
	src := registry.Static(reg)
	keyer, _ := minimise.NewKeyer(make([]byte, 32))
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	list := erasure.New(st, src, clk.Now, nil)
	e := &Events{Store: st, Keyer: keyer, Registry: src, Erased: list, Settle: 300 * time.Millisecond, Clock: clk}
	// The waits are recorded, not timed, so a loaded machine cannot fail
	// the test.
	var waits []time.Duration
	e.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	key := keyer.Hash("subject", "u1")
	for _, id := range []string{"r-now", "r-later"} {
		if _, err := st.InsertEvents(ctx, []store.Event{{Dataset: "interaction_data", ReceivedAt: clk.Now(), SubjectKey: key, Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		s := rights.Subject{RequestID: id, AccountID: "u1"}
		if _, err := e.Deactivate(ctx, s); err != nil {
			t.Fatal(err)
		}
		if !list.Suppressed(reg.Dataset("interaction_data"), key, clk.Now()) {
			t.Fatal("not suppressed on the deactivating node at once")
		}
		if id == "r-later" {
			clk.Advance(time.Second) // the grace period, longer than Settle
		}
		waits = nil
		res, err := e.Purge(ctx, s)
		if err != nil || res.Count != 1 {
			t.Fatalf("%s: purge %+v %v", id, res, err)
		}
		if id == "r-now" && (len(waits) != 1 || waits[0] != 300*time.Millisecond) {
			t.Fatalf("a purge at deactivation did not wait Settle for the other nodes: %v", waits)
		}
		if id == "r-later" && len(waits) != 0 {
			t.Fatalf("a purge after the grace period waited %v", waits)
		}
		rows, _ := st.ErasedSubjectsAfter(ctx, 0)
		for _, r := range rows {
			if r.RequestID == id && r.PurgedAt.IsZero() {
				t.Fatalf("%s: purge not recorded: %+v", id, r)
			}
		}
	}
}
