// Package workflow is the machinery every steward domain with a lifecycle
// shares: a transition table; transitions that store the entity's new
// state, its history entry and the messages it causes in one transaction;
// deadlines counted on the injected clock; one ticker for the work time
// causes; and per-entity locks. A domain (data subject requests in
// internal/rights; later data collection reviews and breach incidents)
// keeps its own entity, words and rules and hands this package a Kind
// that says how its entity is read and written. docs/workflow.md has the
// outline.
package workflow

import (
	"errors"
	"fmt"
	"strings"
)

// State is where an entity stands.
type State string

// Action names a transition, as people and history see it.
type Action string

// Transition is one allowed move: Action takes an entity in From to To.
type Transition struct {
	Action   Action
	From, To State
}

// Table is a domain's lifecycle: its states and the transitions between
// them. Nothing else decides whether an entity may move.
type Table struct {
	entity string
	states []State
	known  map[State]bool
	next   map[State]map[Action]State
	ts     []Transition
}

// NewTable builds the lifecycle of entity (a word for errors, such as
// "request"). states lists every state, final ones included; every
// transition must join listed states, and an action leads from a state to
// one place only.
func NewTable(entity string, states []State, ts ...Transition) (*Table, error) {
	t := &Table{entity: entity, states: states, known: map[State]bool{}, next: map[State]map[Action]State{}, ts: ts}
	for _, s := range states {
		if s == "" || t.known[s] {
			return nil, fmt.Errorf("%s: state %q is empty or listed twice", entity, s)
		}
		t.known[s] = true
	}
	for _, tr := range ts {
		switch {
		case tr.Action == "":
			return nil, fmt.Errorf("%s: a transition from %q has no action", entity, tr.From)
		case !t.known[tr.From] || !t.known[tr.To]:
			return nil, fmt.Errorf("%s: transition %s joins %q and %q, which are not both states of the table", entity, tr.Action, tr.From, tr.To)
		}
		if t.next[tr.From] == nil {
			t.next[tr.From] = map[Action]State{}
		}
		if _, dup := t.next[tr.From][tr.Action]; dup {
			return nil, fmt.Errorf("%s: %s from %q is listed twice", entity, tr.Action, tr.From)
		}
		t.next[tr.From][tr.Action] = tr.To
	}
	return t, nil
}

// MustTable is NewTable for package-level tables, where a malformed table
// is a programming error best found at start.
func MustTable(entity string, states []State, ts ...Transition) *Table {
	t, err := NewTable(entity, states, ts...)
	if err != nil {
		panic(err)
	}
	return t
}

// Entity is the word the table was built with.
func (t *Table) Entity() string { return t.entity }

// States lists the states in the order given.
func (t *Table) States() []State { return append([]State(nil), t.states...) }

// Transitions lists the transitions in the order given.
func (t *Table) Transitions() []Transition { return append([]Transition(nil), t.ts...) }

// Has reports whether s is a state of the table.
func (t *Table) Has(s State) bool { return t.known[s] }

// Final reports whether s is a state no transition leaves.
func (t *Table) Final(s State) bool { return t.known[s] && len(t.next[s]) == 0 }

// Actions lists what may be done from s, in table order.
func (t *Table) Actions(from State) []Action {
	var out []Action
	for _, tr := range t.ts {
		if tr.From == from {
			out = append(out, tr.Action)
		}
	}
	return out
}

// Next returns the state action leads to from from, or a *RefusedError
// naming from, the action and where it would have led.
func (t *Table) Next(from State, a Action) (State, error) {
	if to, ok := t.next[from][a]; ok {
		return to, nil
	}
	e := &RefusedError{Entity: t.entity, From: from, Action: a, Known: t.known[from], Allowed: t.Actions(from)}
	// Where the action leads from the states that allow it, when that is
	// one place: "cannot take from done to in_progress" reads better than
	// a bare action name.
	for _, tr := range t.ts {
		if tr.Action != a {
			continue
		}
		if e.To != "" && e.To != tr.To {
			e.To = ""
			break
		}
		e.To = tr.To
	}
	return "", e
}

// ErrRefused matches every *RefusedError (errors.Is).
var ErrRefused = errors.New("transition not allowed")

// RefusedError is a transition the table does not allow.
type RefusedError struct {
	Entity string
	From   State
	Action Action
	// To is where Action leads from the states that allow it, when that
	// is one state; "" when it leads nowhere or to several.
	To State
	// Known is false when From is not a state of the table at all.
	Known bool
	// Allowed lists the actions From does allow.
	Allowed []Action
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: cannot %s from %q", e.Entity, e.Action, e.From)
	if e.To != "" {
		fmt.Fprintf(&b, " to %q", e.To)
	}
	switch {
	case !e.Known:
		fmt.Fprintf(&b, ": %q is not a state of the table", e.From)
	case len(e.Allowed) == 0:
		fmt.Fprintf(&b, ": %q is final", e.From)
	default:
		allowed := make([]string, len(e.Allowed))
		for i, a := range e.Allowed {
			allowed[i] = string(a)
		}
		fmt.Fprintf(&b, ": from %q the table allows only %s", e.From, strings.Join(allowed, ", "))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
