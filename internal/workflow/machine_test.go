package workflow

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

func TestMachineCommitsStateHistoryAndOutboxTogether(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		c := clock.NewFake(t0)
		m, log := newMachine(s, c)
		r, err := m.Create(ctx, draft("w1", "k1"), "user", "drafted",
			store.OutboxMessage{Kind: store.OutboxEmail, To: "w1@example.org", Body: "b", Ref: "review:w1:drafted", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Create(ctx, draft("w2", "k1"), "user", "again"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate create: %v", err)
		}
		if _, err := m.Create(ctx, store.Request{ID: "w3", Status: "lost"}, "user", ""); err == nil {
			t.Fatal("created in a state the table does not have")
		}

		c.Advance(time.Hour)
		r.Assignee = "ana" // a change the caller makes along with the move
		if r, err = m.Fire(ctx, r, "submit", "ana", "submitted for review"); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour)
		if r, err = m.Note(ctx, r, "ana", "a remark", store.OutboxMessage{Kind: store.OutboxWebhook, To: "ops", Body: "{}", Ref: "review:w1:remark", CreatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour)
		if r, err = m.Fire(ctx, r, "approve", "bo", "approved"); err != nil {
			t.Fatal(err)
		}
		got := read(t, s, "w1")
		if got.r.Status != "approved" || got.r.Assignee != "ana" || got.r.Version != 4 || r.Version != 4 ||
			!got.r.StatusAt.Equal(t0.Add(3*time.Hour)) || !got.r.UpdatedAt.Equal(t0.Add(3*time.Hour)) {
			t.Fatalf("stored: %+v", got.r)
		}
		var trail []string
		for _, h := range got.history {
			trail = append(trail, h.From+">"+h.To+":"+h.Actor+":"+h.Note)
		}
		want := []string{">draft:user:drafted", "draft>submitted:ana:submitted for review", "submitted>submitted:ana:a remark", "submitted>approved:bo:approved"}
		if !reflect.DeepEqual(trail, want) {
			t.Fatalf("history %q\nwant %q", trail, want)
		}
		var refs []string
		for _, o := range got.outbox {
			refs = append(refs, o.Ref)
		}
		if !reflect.DeepEqual(refs, []string{"review:w1:drafted", "review:w1:remark", "review:w1:approved"}) {
			t.Fatalf("outbox %q", refs)
		}
		if len(*log) != 4 || (*log)[3].h.Action != "approve" || (*log)[3].messages != 1 || (*log)[2].h.Action != "" || (*log)[2].messages != 1 {
			t.Fatalf("committed hook: %+v", *log)
		}
	})
}

// A refused transition, a stale entity and a failing write all leave the
// state, the history and the outbox as they were.
func TestMachineWritesNothingWhenAnyPartFails(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		c := clock.NewFake(t0)
		m, log := newMachine(s, c)
		r, err := m.Create(ctx, draft("w1", "k1"), "user", "drafted")
		if err != nil {
			t.Fatal(err)
		}
		if r, err = m.Fire(ctx, r, "submit", "ana", ""); err != nil {
			t.Fatal(err)
		}
		before, calls := read(t, s, "w1"), len(*log)
		c.Advance(time.Hour)

		// Refused by the table.
		_, err = m.Fire(ctx, r, "revise", "ana", "")
		var re *RefusedError
		if !errors.As(err, &re) || re.From != "submitted" || re.To != "draft" || re.Action != "revise" {
			t.Fatalf("refused: %v", err)
		}
		// Stale: someone else moved it since r was read.
		stale := r
		stale.Version--
		if got, err := m.Fire(ctx, stale, "approve", "ana", ""); !errors.Is(err, store.ErrConflict) || !reflect.DeepEqual(got, stale) {
			t.Fatalf("stale: %v, returned %+v", err, got)
		}
		// The history write fails after the entity's update.
		bad := *m
		bad.Kind.Record = func(ctx context.Context, tx store.Tx, r store.Request, h Entry) error {
			r.ID = "no-such-request"
			return m.Kind.Record(ctx, tx, r, h)
		}
		if _, err := bad.Fire(ctx, r, "approve", "ana", ""); err == nil {
			t.Fatal("a failing history write went through")
		}
		// The outbox write fails after the update and the history entry.
		bad = *m
		bad.Store = failingOutbox{s}
		if _, err := bad.Fire(ctx, r, "approve", "ana", "", store.OutboxMessage{Kind: store.OutboxEmail, To: "x@example.org", Body: "b", Ref: "x", CreatedAt: t0}); err == nil {
			t.Fatal("a failing outbox write went through")
		}
		if got := read(t, s, "w1"); !reflect.DeepEqual(got, before) {
			t.Fatalf("a failed change left writes behind:\n got %+v\nwant %+v", got, before)
		}
		if len(*log) != calls {
			t.Fatalf("Committed ran for a change that failed: %+v", (*log)[calls:])
		}
		// The entity the caller holds is still good.
		if _, err := m.Fire(ctx, r, "approve", "ana", ""); err != nil {
			t.Fatal(err)
		}
	})
}

// failingOutbox runs real transactions in which the outbox write is
// stored and then reported failed, as a full disk or a dropped connection
// would.
type failingOutbox struct{ store.Transactor }

func (f failingOutbox) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return f.Transactor.InTx(ctx, func(tx store.Tx) error { return fn(failingOutboxTx{tx}) })
}

type failingOutboxTx struct{ store.Tx }

func (tx failingOutboxTx) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	if err := tx.Tx.EnqueueOutbox(ctx, msgs); err != nil {
		return err
	}
	return errors.New("outbox write failed")
}
