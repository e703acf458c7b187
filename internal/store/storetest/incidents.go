package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

func incidents(t *testing.T, s store.Store) {
	ctx := context.Background()
	in := store.Incident{Title: "reads outside policy", Source: "policy", GroupKey: "policy:tok1", State: "detected",
		Credential: "tok1", Dataset: "interaction_data", LeakAt: t0, AwareAt: t0.Add(time.Minute), OpenedBy: "monitor",
		CreatedAt: t0, UpdatedAt: t0, StateAt: t0}
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateIncident(ctx, &in); err != nil {
			return err
		}
		if err := tx.AppendIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, At: t0, Actor: "monitor", To: "detected", Note: "opened"}); err != nil {
			return err
		}
		return tx.AddIncidentAccesses(ctx, []store.IncidentAccess{{IncidentID: in.ID, Seq: 5, At: t0, Reason: "r"}, {IncidentID: in.ID, Seq: 7, At: t0, Reason: "r"}})
	})
	if err != nil || in.ID == 0 {
		t.Fatalf("create: %v %d", err, in.ID)
	}
	got, err := s.GetIncident(ctx, in.ID)
	if err != nil || got.Title != in.Title || !got.LeakAt.Equal(t0) || !got.AwareAt.Equal(t0.Add(time.Minute)) || !got.OwnerNotifiedAt.IsZero() || got.GroupKey != "policy:tok1" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.GetIncident(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown incident: %v", err)
	}
	// Each access belongs to one incident: a second claim on seq 7 undoes
	// the whole transaction.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.AddIncidentAccesses(ctx, []store.IncidentAccess{{IncidentID: in.ID, Seq: 8, At: t0}, {IncidentID: in.ID, Seq: 7, At: t0}})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second claim of an access: %v", err)
	}
	if as, _ := s.IncidentAccesses(ctx, in.ID, 0); len(as) != 2 || as[0].Seq != 5 || as[1].Seq != 7 {
		t.Fatalf("accesses: %+v", as)
	}
	// Version check.
	stale := got
	got.OwnerNotifiedAt, got.State = t0.Add(2*time.Minute), "assessing"
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &got) }); err != nil || got.Version != 1 {
		t.Fatalf("update: %v %d", err, got.Version)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &stale) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		open, err := tx.OpenIncidentByGroup(ctx, "policy:tok1", []string{"detected", "assessing"})
		if err != nil || open.ID != in.ID {
			t.Errorf("open by group: %+v %v", open, err)
		}
		if _, err := tx.OpenIncidentByGroup(ctx, "policy:tok1", []string{"closed"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("closed by group: %v", err)
		}
		first, err := tx.MarkIncidentNotice(ctx, in.ID, "authority:24h", t0)
		if err != nil || !first {
			t.Errorf("first notice: %v %v", first, err)
		}
		again, err := tx.MarkIncidentNotice(ctx, in.ID, "authority:24h", t0)
		if err != nil || again {
			t.Errorf("second notice: %v %v", again, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListIncidents(ctx, store.IncidentQuery{States: []string{"assessing"}}); len(l) != 1 || !l[0].OwnerNotifiedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("list assessing: %+v", l)
	}
	if l, _ := s.ListIncidents(ctx, store.IncidentQuery{Source: "manual"}); len(l) != 0 {
		t.Fatalf("list manual: %+v", l)
	}
	if h, _ := s.IncidentHistory(ctx, in.ID); len(h) != 1 || h[0].Note != "opened" {
		t.Fatalf("history: %+v", h)
	}
}

func monitorPosition(t *testing.T, s store.Store) {
	ctx := context.Background()
	if p, err := s.GetMonitorPosition(ctx, "breach"); err != nil || p.Seq != 0 {
		t.Fatalf("fresh position: %+v %v", p, err)
	}
	// One holder at a time; the lease passes on once it runs out.
	if ok, err := s.TakeLease(ctx, "breach", "a", t0, time.Minute); err != nil || !ok {
		t.Fatalf("a takes: %v %v", ok, err)
	}
	if ok, _ := s.TakeLease(ctx, "breach", "b", t0.Add(30*time.Second), time.Minute); ok {
		t.Fatal("b took a held lease")
	}
	if ok, _ := s.TakeLease(ctx, "breach", "a", t0.Add(30*time.Second), time.Minute); !ok {
		t.Fatal("a could not renew")
	}
	advance := func(p store.MonitorPosition, from int64, holder string) error {
		return s.InTx(ctx, func(tx store.Tx) error { return tx.AdvanceMonitor(ctx, p, from, holder) })
	}
	p := store.MonitorPosition{Name: "breach", Seq: 10, Hash: []byte{1, 2}, Checked: 10, State: []byte(`{}`), UpdatedAt: t0.Add(40 * time.Second)}
	if err := advance(p, 0, "a"); err != nil {
		t.Fatal(err)
	}
	if err := advance(store.MonitorPosition{Name: "breach", Seq: 20, UpdatedAt: t0.Add(40 * time.Second)}, 0, "a"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("advance from a stale position: %v", err)
	}
	if err := advance(store.MonitorPosition{Name: "breach", Seq: 20, UpdatedAt: t0.Add(40 * time.Second)}, 10, "b"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("advance without the lease: %v", err)
	}
	if ok, _ := s.TakeLease(ctx, "breach", "b", t0.Add(2*time.Minute), time.Minute); !ok {
		t.Fatal("b could not take a lease that ran out")
	}
	if err := advance(store.MonitorPosition{Name: "breach", Seq: 20, UpdatedAt: t0.Add(2 * time.Minute)}, 10, "a"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("advance by the former holder: %v", err)
	}
	got, err := s.GetMonitorPosition(ctx, "breach")
	if err != nil || got.Seq != 10 || string(got.Hash) != "\x01\x02" || string(got.State) != `{}` || got.Checked != 10 {
		t.Fatalf("position: %+v %v", got, err)
	}
}

// accessInTx: an entry appended inside a change's transaction joins the
// one chain, and leaves nothing when the change fails.
func accessInTx(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.AppendAccess(ctx, []*store.AccessEntry{accessEntry("ana", "a", t0)}, seal); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.AppendAccessTx(ctx, []*store.AccessEntry{accessEntry("monitor", "@incidents", t0)}, seal); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAccessTx(ctx, []*store.AccessEntry{accessEntry("monitor", "@incidents", t0.Add(time.Second))}, seal)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAccess(ctx, []*store.AccessEntry{accessEntry("bob", "a", t0.Add(2*time.Second))}, seal); err != nil {
		t.Fatal(err)
	}
	v := accesslog.NewVerifier()
	var actors []string
	if err := s.ScanAccess(ctx, 0, 100, func(e *store.AccessEntry) error { actors = append(actors, e.Actor); return v.Check(e) }); err != nil {
		t.Fatal(err)
	}
	if len(actors) != 3 || actors[1] != "monitor" {
		t.Fatalf("chain: %v", actors)
	}
}
