// Package storetest is the conformance suite every store backend passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// Run runs the suite; open returns a fresh, migrated, empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("EventsRoundTripAndIdempotency", func(t *testing.T) { eventsRoundTrip(t, open(t)) })
	t.Run("ConcurrentWritersNoGaps", func(t *testing.T) { concurrentWriters(t, open(t)) })
	t.Run("Retention", func(t *testing.T) { retention(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { tokens(t, open(t)) })
	t.Run("SweepsAndSettings", func(t *testing.T) { sweepsAndSettings(t, open(t)) })
	t.Run("Requests", func(t *testing.T) { requests(t, open(t)) })
	t.Run("GleanRequest", func(t *testing.T) { gleanRequest(t, open(t)) })
	t.Run("Transactions", func(t *testing.T) { transactions(t, open(t)) })
	t.Run("AccessLog", func(t *testing.T) { accessLog(t, open(t)) })
	t.Run("AccessCheckpoints", func(t *testing.T) { accessCheckpoints(t, open(t)) })
	t.Run("ForgedCheckpoints", func(t *testing.T) { forgedCheckpoints(t, open) })
	t.Run("OutboxLifecycle", func(t *testing.T) { outboxLifecycle(t, open(t)) })
	t.Run("OutboxConcurrentClaimers", func(t *testing.T) { outboxConcurrentClaimers(t, open(t)) })
	t.Run("OutboxSealedSecrets", func(t *testing.T) { outboxSealedSecrets(t, open(t)) })
	t.Run("OutboxPending", func(t *testing.T) { outboxPending(t, open(t)) })
	t.Run("Accounts", func(t *testing.T) { accounts(t, open(t)) })
	t.Run("RegistryVersions", func(t *testing.T) { registryVersions(t, open(t)) })
	t.Run("ErasedSubjects", func(t *testing.T) { erasedSubjects(t, open(t)) })
	t.Run("Reviews", func(t *testing.T) { reviews(t, open(t)) })
	t.Run("RequestSummaries", func(t *testing.T) { requestSummaries(t, open(t)) })
	t.Run("CollectionVolume", func(t *testing.T) { collectionVolume(t, open(t)) })
	t.Run("Incidents", func(t *testing.T) { incidents(t, open(t)) })
	t.Run("MonitorPosition", func(t *testing.T) { monitorPosition(t, open(t)) })
	t.Run("AccessInTx", func(t *testing.T) { accessInTx(t, open(t)) })
	t.Run("BlastRadius", func(t *testing.T) { blastRadius(t, open(t)) })
}

func ev(ds, id string, at time.Time, subject string) store.Event {
	return store.Event{Dataset: ds, ReceivedAt: at, EventID: id, SubjectKey: subject, Data: []byte(`{"n":1,"s":"é"}`)}
}

func eventsRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	stored, err := s.InsertEvents(ctx, []store.Event{ev("a", "id1", t0, "s1"), ev("a", "id1", t0, "s1"), ev("b", "id1", t0, "s2"), ev("a", "", t0, "")})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(stored) != "[true false true true]" {
		t.Fatalf("stored flags %v", stored)
	}
	if stored, _ := s.InsertEvents(ctx, []store.Event{ev("a", "id1", t0, "s1")}); stored[0] {
		t.Fatal("retried id stored again")
	}
	got, err := s.ListEvents(ctx, store.EventQuery{Dataset: "a", From: t0, To: t0.Add(time.Hour), Limit: 10})
	if err != nil || len(got) != 2 || got[0].Seq >= got[1].Seq || string(got[0].Data) != `{"n":1,"s":"é"}` || !got[0].ReceivedAt.Equal(t0) {
		t.Fatalf("list: %v %+v", err, got)
	}
	if got, _ := s.ListEvents(ctx, store.EventQuery{Dataset: "a", From: t0.Add(time.Second), To: t0.Add(time.Hour), Limit: 10}); len(got) != 0 {
		t.Fatalf("range bound [from,to) not honoured: %d", len(got))
	}
	counts, err := s.DeleteSubjectEvents(ctx, "s1")
	if err != nil || counts["a"] != 1 || len(counts) != 1 {
		t.Fatalf("delete subject: %v %v", counts, err)
	}
}

func concurrentWriters(t *testing.T, s store.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	seen := map[int64]bool{}
	readErr := make(chan error, 1)
	go func() { // a reader paging by seq while writers run
		var after int64
		for {
			// Note whether writers had finished before this read: only an
			// empty page read after that means everything was seen.
			finished := false
			select {
			case <-stop:
				finished = true
			default:
			}
			evs, err := s.ListEvents(ctx, store.EventQuery{Dataset: "c", AfterSeq: after, Limit: 50})
			if err != nil {
				readErr <- err
				return
			}
			for _, e := range evs {
				if seen[e.Seq] {
					readErr <- fmt.Errorf("seq %d twice", e.Seq)
					return
				}
				seen[e.Seq] = true
				after = e.Seq
			}
			if finished && len(evs) == 0 {
				readErr <- nil
				return
			}
		}
	}()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range 50 {
				batch := make([]store.Event, 10)
				for i := range batch {
					batch[i] = ev("c", fmt.Sprintf("%d-%d-%d", w, b, i), t0, "")
				}
				if _, err := s.InsertEvents(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2000 {
		t.Fatalf("paging reader saw %d of 2000 events", len(seen))
	}
}

func retention(t *testing.T, s store.Store) {
	ctx := context.Background()
	s.InsertEvents(ctx, []store.Event{ev("r", "old", t0.Add(-48*time.Hour), ""), ev("r", "new", t0, ""), ev("other", "x", t0.Add(-48*time.Hour), "")})
	n, err := s.DeleteEventsBefore(ctx, "r", t0.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if stored, _ := s.InsertEvents(ctx, []store.Event{ev("r", "old", t0, "")}); !stored[0] {
		t.Fatal("id of a deleted event still blocks it")
	}
	if evs, _ := s.ListEvents(ctx, store.EventQuery{Dataset: "other", Limit: 10}); len(evs) != 1 {
		t.Fatal("retention of one dataset touched another")
	}
}

func tokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := store.Token{ID: "t1", Name: "n", Role: "admin", SecretHash: []byte("h1"), CreatedAt: t0}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, tok); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate token: %v", err)
	}
	if _, err := s.TokenBySecretHash(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	s.TouchToken(ctx, "t1", t0.Add(time.Minute))
	if err := s.RevokeToken(ctx, "t1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenBySecretHash(ctx, []byte("h1"))
	if err != nil || !got.LastUsedAt.Equal(t0.Add(time.Minute)) || !got.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("token: %+v %v", got, err)
	}
	if err := s.RevokeToken(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if l, _ := s.ListTokens(ctx); len(l) != 1 {
		t.Fatalf("list: %v", l)
	}
}

func sweepsAndSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, d := range []string{"a", "b", "a"} {
		if _, err := s.RecordSweep(ctx, store.Sweep{Dataset: d, Cutoff: t0, Deleted: int64(i), StartedAt: t0, FinishedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := s.ListSweeps(ctx, "", 10)
	a, _ := s.ListSweeps(ctx, "a", 10)
	if len(all) != 3 || len(a) != 2 || a[0].Deleted != 2 {
		t.Fatalf("sweeps: %+v / %+v", all, a)
	}
	v, _ := s.SetSettingIfAbsent(ctx, "k", "one")
	v2, _ := s.SetSettingIfAbsent(ctx, "k", "two")
	if v != "one" || v2 != "one" {
		t.Fatalf("settings: %s %s", v, v2)
	}
}
