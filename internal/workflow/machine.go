package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

// Entry is one line of an entity's history: a transition (Action set), a
// note that keeps the state (Action "", From == To) or the creation (From
// "").
type Entry struct {
	At       time.Time
	Actor    string
	Action   Action
	From, To State
	Note     string
}

// Kind tells a Machine how one domain's entities are read and written.
// Insert, Update and Record run inside the transaction and must write
// only through tx.
type Kind[E any] struct {
	Table *Table
	// State reads where e stands.
	State func(E) State
	// Enter puts e in s at at: on creation and on every transition (so a
	// deadline can count from it).
	Enter func(e *E, s State, at time.Time)
	// Touch, when set, stamps every change, notes included.
	Touch func(e *E, at time.Time)
	// Insert stores a new entity; store.ErrConflict for a duplicate.
	Insert func(ctx context.Context, tx store.Tx, e *E) error
	// Update stores e if its stored version is still the one e was read
	// at (else store.ErrConflict) and advances e's version.
	Update func(ctx context.Context, tx store.Tx, e *E) error
	// Record appends h to e's history.
	Record func(ctx context.Context, tx store.Tx, e E, h Entry) error
	// Messages, when set, returns the messages entering to by a
	// transition causes (telling the person, say); they are enqueued
	// after the caller's.
	Messages func(e E, to State) []store.OutboxMessage
	// InState lists the entities in s that entered it before before; only
	// Expire needs it.
	InState func(ctx context.Context, s State, before time.Time) ([]E, error)
}

// Machine changes entities of one Kind. Every change (creation,
// transition, note) stores the entity, its history entry and its
// messages in one transaction: a message is never promised for a change
// that did not happen, and no change happens without its history.
type Machine[E any] struct {
	Kind  Kind[E]
	Store store.Transactor
	// Clock stamps changes and decides deadlines.
	Clock clock.Clock
	// Committed, when set, runs after each commit with the stored entity,
	// its history entry and how many messages were enqueued: to wake the
	// outbox worker, to log.
	Committed func(e E, h Entry, messages int)
}

// Create stores a new entity in the state it already has, with its first
// history entry and messages.
func (m *Machine[E]) Create(ctx context.Context, e E, actor, note string, out ...store.OutboxMessage) (E, error) {
	s := m.Kind.State(e)
	if !m.Kind.Table.Has(s) {
		return e, fmt.Errorf("%s: cannot create in %q: not a state of the table", m.Kind.Table.Entity(), s)
	}
	now := m.Clock.Now().UTC()
	next := e
	m.Kind.Enter(&next, s, now)
	m.touch(&next, now)
	return m.commit(ctx, e, next, Entry{At: now, Actor: actor, To: s, Note: note}, m.Kind.Insert, nil, out)
}

// Fire moves e by action a, as the table allows, or returns a
// *RefusedError and writes nothing. e carries any other change the caller
// made with the move. store.ErrConflict means e changed since it was
// read.
func (m *Machine[E]) Fire(ctx context.Context, e E, a Action, actor, note string, out ...store.OutboxMessage) (E, error) {
	return m.FireAlso(ctx, e, a, actor, note, nil, out...)
}

// Also is more work a change does in its own transaction, before the
// entity is written (a review's sign-off row, the registry version its
// approval publishes). It may change e; an error undoes everything.
type Also[E any] func(ctx context.Context, tx store.Tx, e *E) error

// FireAlso is Fire with also run in the same transaction.
func (m *Machine[E]) FireAlso(ctx context.Context, e E, a Action, actor, note string, also Also[E], out ...store.OutboxMessage) (E, error) {
	from := m.Kind.State(e)
	to, err := m.Kind.Table.Next(from, a)
	if err != nil {
		return e, err
	}
	now := m.Clock.Now().UTC()
	next := e
	m.Kind.Enter(&next, to, now)
	m.touch(&next, now)
	if m.Kind.Messages != nil {
		out = append(out[:len(out):len(out)], m.Kind.Messages(next, to)...)
	}
	return m.commit(ctx, e, next, Entry{At: now, Actor: actor, Action: a, From: from, To: to, Note: note}, m.Kind.Update, also, out)
}

// Note stores a change of e that keeps its state, with a history entry.
func (m *Machine[E]) Note(ctx context.Context, e E, actor, note string, out ...store.OutboxMessage) (E, error) {
	return m.NoteAlso(ctx, e, actor, note, nil, out...)
}

// NoteAlso is Note with also run in the same transaction.
func (m *Machine[E]) NoteAlso(ctx context.Context, e E, actor, note string, also Also[E], out ...store.OutboxMessage) (E, error) {
	s := m.Kind.State(e)
	now := m.Clock.Now().UTC()
	next := e
	m.touch(&next, now)
	return m.commit(ctx, e, next, Entry{At: now, Actor: actor, From: s, To: s, Note: note}, m.Kind.Update, also, out)
}

func (m *Machine[E]) touch(e *E, at time.Time) {
	if m.Kind.Touch != nil {
		m.Kind.Touch(e, at)
	}
}

// commit writes next, h and out in one transaction; on failure it returns
// the entity as it was, since nothing was stored.
func (m *Machine[E]) commit(ctx context.Context, was, next E, h Entry, write func(context.Context, store.Tx, *E) error, also Also[E], out []store.OutboxMessage) (E, error) {
	err := m.Store.InTx(ctx, func(tx store.Tx) error {
		if also != nil {
			if err := also(ctx, tx, &next); err != nil {
				return err
			}
		}
		if err := write(ctx, tx, &next); err != nil {
			return err
		}
		if err := m.Kind.Record(ctx, tx, next, h); err != nil {
			return err
		}
		return tx.EnqueueOutbox(ctx, out)
	})
	if err != nil {
		return was, err
	}
	if m.Committed != nil {
		m.Committed(next, h, len(out))
	}
	return next, nil
}

// CreateIn is Create inside the caller's transaction, for work that makes
// several changes at once (the breach monitor opens incidents and moves
// its position in the log together, so a crash repeats or loses
// neither). It returns the stored entity and its history entry; the
// caller enqueues the messages (they may name the new entity's id) and
// runs whatever follows the commit.
func (m *Machine[E]) CreateIn(ctx context.Context, tx store.Tx, e E, actor, note string) (E, Entry, error) {
	s := m.Kind.State(e)
	if !m.Kind.Table.Has(s) {
		return e, Entry{}, fmt.Errorf("%s: cannot create in %q: not a state of the table", m.Kind.Table.Entity(), s)
	}
	now := m.Clock.Now().UTC()
	m.Kind.Enter(&e, s, now)
	m.touch(&e, now)
	h := Entry{At: now, Actor: actor, To: s, Note: note}
	if err := m.Kind.Insert(ctx, tx, &e); err != nil {
		return e, h, err
	}
	return e, h, m.Kind.Record(ctx, tx, e, h)
}

// NoteIn is Note inside the caller's transaction (see CreateIn).
func (m *Machine[E]) NoteIn(ctx context.Context, tx store.Tx, e E, actor, note string) (E, Entry, error) {
	s := m.Kind.State(e)
	now := m.Clock.Now().UTC()
	m.touch(&e, now)
	h := Entry{At: now, Actor: actor, From: s, To: s, Note: note}
	if err := m.Kind.Update(ctx, tx, &e); err != nil {
		return e, h, err
	}
	return e, h, m.Kind.Record(ctx, tx, e, h)
}
