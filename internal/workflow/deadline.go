package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// Deadline is how long an entity may stay in one state: once After has
// passed since it entered State, Expire moves it by Action (30 days in
// waiting_for_email_confirmation, then reject).
type Deadline struct {
	State  State
	After  time.Duration
	Action Action
	// Note is the history entry's note, and what a domain may tell the
	// person.
	Note string
	// Actor is who the history says moved the entity; "" is "system".
	Actor string
}

// Cutoff is the latest entry time that has not yet passed the deadline at
// now: entities that entered State before it are due.
func (d Deadline) Cutoff(now time.Time) time.Time { return now.Add(-d.After) }

// Due is when an entity that entered State at entered passes the deadline.
func (d Deadline) Due(entered time.Time) time.Time { return entered.Add(d.After) }

// Passed reports whether an entity that entered State at entered is due
// at now.
func (d Deadline) Passed(entered, now time.Time) bool { return entered.Before(d.Cutoff(now)) }

// Check reports a deadline that cannot work with table t.
func (d Deadline) Check(t *Table) error {
	if d.After <= 0 {
		return fmt.Errorf("%s: the deadline in %q must be positive", t.Entity(), d.State)
	}
	_, err := t.Next(d.State, d.Action)
	return err
}

func (d Deadline) actor() string {
	if d.Actor == "" {
		return "system"
	}
	return d.Actor
}

// Expire moves every entity that has passed one of the deadlines, at the
// machine clock's now. prepare, when set, changes each entity before its
// move (to record the reason, say). An entity that changed since it was
// listed (store.ErrConflict) is skipped: whatever changed it has the last
// word, and the next tick sees it again if it is still due. Other errors
// are returned together once every deadline has been tried.
func (m *Machine[E]) Expire(ctx context.Context, prepare func(e *E, d Deadline), ds ...Deadline) error {
	now := m.Clock.Now().UTC()
	var errs []error
	for _, d := range ds {
		if err := d.Check(m.Kind.Table); err != nil {
			errs = append(errs, err)
			continue
		}
		due, err := m.Kind.InState(ctx, d.State, d.Cutoff(now))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range due {
			if prepare != nil {
				prepare(&e, d)
			}
			if _, err := m.Fire(ctx, e, d.Action, d.actor(), d.Note); err != nil && !errors.Is(err, store.ErrConflict) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
