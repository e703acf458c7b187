package workflow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

func TestDeadlineArithmetic(t *testing.T) {
	d := Deadline{State: "submitted", After: 30 * 24 * time.Hour, Action: "return"}
	now := t0.Add(40 * 24 * time.Hour)
	if !d.Cutoff(now).Equal(t0.Add(10*24*time.Hour)) || !d.Due(t0).Equal(t0.Add(30*24*time.Hour)) {
		t.Fatal("Cutoff/Due")
	}
	if d.Passed(t0, t0.Add(30*24*time.Hour)) || !d.Passed(t0, t0.Add(30*24*time.Hour+time.Microsecond)) {
		t.Fatal("Passed: due strictly after After has gone by")
	}
	if err := d.Check(review); err != nil {
		t.Fatal(err)
	}
	if err := (Deadline{State: "approved", After: time.Hour, Action: "return"}).Check(review); !errors.Is(err, ErrRefused) {
		t.Fatalf("deadline with an action its state does not allow: %v", err)
	}
	if err := (Deadline{State: "submitted", Action: "return"}).Check(review); err == nil {
		t.Fatal("zero deadline accepted")
	}
}

// TestExpireWithAMovedClock: an entity is moved only once its deadline has
// passed on the machine's clock, and one that changed meanwhile is left
// to whatever changed it.
func TestExpireWithAMovedClock(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		c := clock.NewFake(t0)
		m, _ := newMachine(s, c)
		ds := []Deadline{
			{State: "submitted", After: 30 * 24 * time.Hour, Action: "return", Note: "nobody reviewed it in time"},
			{State: "returned", After: 7 * 24 * time.Hour, Action: "revise", Actor: "clerk"},
		}
		prepared := map[string]string{}
		prepare := func(r *store.Request, d Deadline) {
			r.RejectReason = d.Note
			prepared[r.ID] = string(d.State)
		}
		a, _ := m.Create(ctx, draft("wa", "ka"), "user", "")
		a, _ = m.Fire(ctx, a, "submit", "user", "")
		c.Advance(24 * time.Hour)
		b, _ := m.Create(ctx, draft("wb", "kb"), "user", "")
		b, _ = m.Fire(ctx, b, "submit", "user", "")

		c.Advance(28 * 24 * time.Hour) // a: 29 days in submitted, b: 28
		if err := m.Expire(ctx, prepare, ds...); err != nil {
			t.Fatal(err)
		}
		if r := read(t, s, "wa").r; r.Status != "submitted" {
			t.Fatalf("moved before its deadline: %s", r.Status)
		}
		c.Advance(24*time.Hour + time.Second) // a: past 30 days; b: not yet
		if err := m.Expire(ctx, prepare, ds...); err != nil {
			t.Fatal(err)
		}
		got := read(t, s, "wa")
		last := got.history[len(got.history)-1]
		if got.r.Status != "returned" || got.r.RejectReason != "nobody reviewed it in time" || last.Actor != "system" ||
			last.Note != "nobody reviewed it in time" || !got.r.StatusAt.Equal(c.Now()) {
			t.Fatalf("after its deadline: %+v %+v", got.r, last)
		}
		if r := read(t, s, "wb").r; r.Status != "submitted" || prepared["wb"] != "" {
			t.Fatalf("b moved a day early: %s", r.Status)
		}
		// A second deadline counts from when a entered returned.
		c.Advance(7*24*time.Hour + time.Second)
		if err := m.Expire(ctx, prepare, ds...); err != nil {
			t.Fatal(err)
		}
		got = read(t, s, "wa")
		if got.r.Status != "draft" || got.history[len(got.history)-1].Actor != "clerk" {
			t.Fatalf("second deadline: %+v", got.r)
		}
		if r := read(t, s, "wb").r; r.Status != "returned" {
			t.Fatalf("b after its deadline: %s", r.Status)
		}

		// An entity that changes between listing and moving is skipped
		// without error: the change that won stays.
		race := *m
		race.Kind.InState = func(ctx context.Context, st State, before time.Time) ([]store.Request, error) {
			due, err := m.Kind.InState(ctx, st, before)
			for _, r := range due {
				r.Assignee = "someone else"
				if _, err := m.Note(ctx, r, "ana", "took it"); err != nil {
					t.Error(err)
				}
			}
			return due, err
		}
		c.Advance(8 * 24 * time.Hour)
		if err := race.Expire(ctx, prepare, ds...); err != nil {
			t.Fatalf("conflict reported: %v", err)
		}
		if r := read(t, s, "wb").r; r.Status != "returned" || r.Assignee != "someone else" {
			t.Fatalf("raced entity: %+v", r)
		}
		// A deadline whose action its state does not allow is reported.
		if err := m.Expire(ctx, nil, Deadline{State: "approved", After: time.Hour, Action: "submit"}); !errors.Is(err, ErrRefused) {
			t.Fatalf("bad deadline: %v", err)
		}
	})
}
