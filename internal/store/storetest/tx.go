package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// txState is everything a transaction over one request may write.
type txState struct {
	Request         store.Request
	Requests        int
	History, Outbox int
	LastHistoryNote string
	LastOutboxRef   string
}

func readTxState(t *testing.T, s store.Store, id string) txState {
	t.Helper()
	ctx := context.Background()
	r, err := s.GetRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, n, err := s.ListRequests(ctx, store.RequestFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := s.RequestHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.ListOutbox(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	st := txState{Request: r, Requests: n, History: len(hist), Outbox: len(out)}
	if len(hist) > 0 {
		st.LastHistoryNote = hist[len(hist)-1].Note
	}
	if len(out) > 0 {
		st.LastOutboxRef = out[len(out)-1].Ref
	}
	return st
}

// transactions: InTx keeps every write of fn or none, whichever part fails
// (the entity's update, its history entry, its messages, or fn itself),
// and the store stays usable after a failure.
func transactions(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := request("t1", "ts1", "erasure", "waiting_for_email_confirmation", t0)
	msg := func(ref string) store.OutboxMessage {
		return store.OutboxMessage{Kind: store.OutboxEmail, To: "t1@example.org", Subject: "s", Body: "b", Ref: ref, CreatedAt: t0}
	}
	if err := createRequest(ctx, s, r, store.RequestEvent{RequestID: r.ID, At: t0, Actor: "user", To: r.Status, Note: "made"}, msg("request:t1:confirm")); err != nil {
		t.Fatal(err)
	}
	before := readTxState(t, s, r.ID)
	if before.History != 1 || before.Outbox != 1 || before.Request.Version != 1 {
		t.Fatalf("after create: %+v", before)
	}

	moved := before.Request
	moved.Status, moved.StatusAt, moved.UpdatedAt = "received", t0.Add(time.Hour), t0.Add(time.Hour)
	event := store.RequestEvent{RequestID: r.ID, At: t0.Add(time.Hour), Actor: "user", From: "waiting_for_email_confirmation", To: "received", Note: "moved"}
	update := func(tx store.Tx) error { _, err := tx.UpdateRequest(ctx, moved); return err }
	history := func(tx store.Tx) error { return tx.AppendRequestEvent(ctx, event) }
	outbox := func(tx store.Tx) error {
		return tx.EnqueueOutbox(ctx, []store.OutboxMessage{msg("request:t1:received")})
	}
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		name  string
		parts []func(store.Tx) error
		want  error // nil: any error
	}{
		{"fn fails after every write", []func(store.Tx) error{update, history, outbox, func(store.Tx) error { return boom }}, boom},
		{"history fails (unknown request)", []func(store.Tx) error{update, outbox, func(tx store.Tx) error {
			e := event
			e.RequestID = "no-such-request"
			return tx.AppendRequestEvent(ctx, e)
		}}, nil},
		{"outbox fails", []func(store.Tx) error{update, history, func(tx store.Tx) error {
			return tx.EnqueueOutbox(cancelled, []store.OutboxMessage{msg("request:t1:received")})
		}}, nil},
		{"update fails (version moved)", []func(store.Tx) error{history, outbox, func(tx store.Tx) error {
			stale := moved
			stale.Version = 0
			_, err := tx.UpdateRequest(ctx, stale)
			return err
		}}, store.ErrConflict},
		{"create fails (duplicate)", []func(store.Tx) error{outbox, func(tx store.Tx) error {
			return tx.CreateRequest(ctx, request("t2", "ts1", "erasure", "received", t0))
		}}, store.ErrConflict},
	} {
		err := s.InTx(ctx, func(tx store.Tx) error {
			for _, p := range c.parts {
				if err := p(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: InTx returned %v, want %v", c.name, err, c.want)
		}
		if got := readTxState(t, s, r.ID); !reflect.DeepEqual(got, before) {
			t.Errorf("%s: a failed transaction left writes behind:\n got %+v\nwant %+v", c.name, got, before)
		}
	}

	// A panic in fn rolls back too, and the panic goes on to the caller.
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("panic: %v", p)
			}
		}()
		s.InTx(ctx, func(tx store.Tx) error {
			for _, p := range []func(store.Tx) error{update, history, outbox} {
				if err := p(tx); err != nil {
					t.Error(err)
				}
			}
			panic("boom")
		})
	}()
	if got := readTxState(t, s, r.ID); !reflect.DeepEqual(got, before) {
		t.Errorf("panic: writes left behind:\n got %+v\nwant %+v", got, before)
	}

	// After all that the store still commits (SQLite's writer connection
	// and PostgreSQL's pool connections were given back).
	var v int64
	if err := s.InTx(ctx, func(tx store.Tx) error {
		var err error
		if v, err = tx.UpdateRequest(ctx, moved); err != nil {
			return err
		}
		if err := history(tx); err != nil {
			return err
		}
		return outbox(tx)
	}); err != nil || v != 2 {
		t.Fatalf("commit after failures: %d %v", v, err)
	}
	after := readTxState(t, s, r.ID)
	if after.Request.Status != "received" || after.Request.Version != 2 || after.History != 2 || after.LastHistoryNote != "moved" ||
		after.Outbox != 2 || after.LastOutboxRef != "request:t1:received" {
		t.Fatalf("after commit: %+v", after)
	}

	// Two transactions that read the same version: exactly one commits.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := after.Request
			next.Assignee = fmt.Sprint("agent", i)
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				if err := tx.EnqueueOutbox(ctx, []store.OutboxMessage{msg(fmt.Sprint("race", i))}); err != nil {
					return err
				}
				if _, err := tx.UpdateRequest(ctx, next); err != nil {
					return err
				}
				return tx.AppendRequestEvent(ctx, store.RequestEvent{RequestID: r.ID, At: t0, Actor: next.Assignee, From: "received", To: "received", Note: "race"})
			})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racing writer: %v", err)
		}
	}
	final := readTxState(t, s, r.ID)
	if won != 1 || final.Request.Version != 3 || final.History != 3 || final.Outbox != 3 {
		t.Fatalf("racing writers: %d won; %+v", won, final)
	}
}
