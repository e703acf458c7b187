// Package connectors reaches the systems that hold a data subject's
// personal data — steward's own event store, an application's SQL
// database, an application's webhook — to deactivate, purge or export it
// for a request, and resolves the account behind a request.
package connectors

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
)

// Events is steward's own event store. Events are stored under the keyed
// hash of the dataset's subject identifier, so erasure hashes each known
// identifier of the person the same way (package subject), puts the keys
// on the suppression list at deactivation and deletes by key in every
// dataset at purge.
type Events struct {
	Store    EventStore
	Keyer    *minimise.Keyer
	Registry *registry.Source
	// Erased is this node's copy of the suppression list, refreshed at
	// once after each change so this node drops the keys without waiting
	// for its poll; nil refreshes nothing.
	Erased *erasure.List
	// Settle is how long after deactivation every node is known to drop
	// the keys (twice the list's poll interval). A purge sooner than that,
	// with a grace period shorter than it, waits the rest: deleting before
	// a node has caught up would let that node store the person's events
	// again, unhidden.
	Settle time.Duration
	// Clock dates the list's rows; nil is the real clock.
	Clock clock.Clock
	// Words names the event store for the person (rights.Labelled);
	// empty means DefaultEventsLabel.
	Words string

	// sleep waits d unless ctx ends first; nil is a real timer (tests
	// record the waits instead of timing them).
	sleep func(ctx context.Context, d time.Duration) error
}

// DefaultEventsLabel is how the person reads steward's own event store
// unless the requests settings say otherwise (requests.events_label).
const DefaultEventsLabel = "Usage data we collected"

// Label implements rights.Labelled.
func (e *Events) Label() string {
	if e.Words != "" {
		return e.Words
	}
	return DefaultEventsLabel
}

// EventStore is what the events connector needs of the store.
type EventStore interface {
	store.Events
	store.ErasedSubjects
}

func (e *Events) now() time.Time {
	if e.Clock == nil {
		return time.Now().UTC()
	}
	return e.Clock.Now().UTC()
}

// Name implements rights.Connector.
func (e *Events) Name() string { return "steward-events" }

// GleanClientIDs: Glean pings are stored as steward events, keyed by the
// client id (rights.GleanConnector).
func (e *Events) GleanClientIDs() bool { return true }

// keys are the subject keys the person's identifiers hash to, with the
// keys of the identifiers as given, for events collected before
// identifiers were normalised. The e-mail address is known to be one; an
// account or app user id may have been collected as any kind, so it is
// hashed as its shape allows (subject.AnyKeys).
func (e *Events) keys(s rights.Subject) []string {
	out := subject.Keys(e.Keyer, subject.Email, s.Email)
	for _, id := range []string{s.AccountID, s.AppUserID, s.GleanClientID} {
		out = append(out, subject.AnyKeys(e.Keyer, id)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Deactivate puts the person's keys on the suppression list in one
// transaction: from its commit no read returns their events (the store's
// ListEvents leaves them out), and collection drops new ones, here at once
// and on every other node within its poll. Nothing is deleted yet.
func (e *Events) Deactivate(ctx context.Context, s rights.Subject) (rights.Result, error) {
	keys := e.keys(s)
	if err := e.Store.AddErasedSubjects(ctx, s.RequestID, keys, e.now()); err != nil {
		return rights.Result{}, err
	}
	if err := e.refresh(ctx); err != nil {
		return rights.Result{}, err
	}
	return rights.Result{Detail: fmt.Sprintf("events of %d subject key(s) hidden from every read and no longer collected; deleted at purge", len(keys))}, nil
}

func (e *Events) refresh(ctx context.Context) error {
	if e.Erased == nil {
		return nil
	}
	_, err := e.Erased.Refresh(ctx)
	return err
}

// settle waits until every node is known to drop the keys deactivated for
// the request: only a grace period shorter than Settle has to wait.
func (e *Events) settle(ctx context.Context, s rights.Subject, keys []string) error {
	if e.Settle <= 0 || s.RequestID == "" {
		return nil
	}
	// Not known here yet (deactivated on another node a moment ago):
	// wait the whole time.
	since := e.now()
	if e.Erased != nil {
		for _, k := range keys {
			if at, ok := e.Erased.DeactivatedAt(k, s.RequestID); ok {
				since = at
				break
			}
		}
	}
	wait := since.Add(e.Settle).Sub(e.now())
	if wait <= 0 {
		return nil
	}
	if e.sleep != nil {
		return e.sleep(ctx, wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Purge deletes every event of the person in every dataset, then records
// the purge on the suppression list, in that order: until the record, the
// keys stay hidden from reads, so nothing is readable in between.
// Collection keeps dropping them for each dataset's suppress_erased.
func (e *Events) Purge(ctx context.Context, s rights.Subject) (rights.Result, error) {
	keys := e.keys(s)
	if err := e.settle(ctx, s, keys); err != nil {
		return rights.Result{}, err
	}
	var total int64
	per := map[string]int64{}
	for _, k := range keys {
		counts, err := e.Store.DeleteSubjectEvents(ctx, k)
		if err != nil {
			return rights.Result{}, err
		}
		for ds, n := range counts {
			per[ds] += n
			total += n
		}
	}
	var parts []string
	for ds, n := range per {
		parts = append(parts, fmt.Sprintf("%s: %d", ds, n))
	}
	slices.Sort(parts)
	detail := fmt.Sprintf("deleted %d events", total)
	if len(parts) > 0 {
		detail += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.RequestID != "" {
		if err := e.Store.MarkErasedPurged(ctx, s.RequestID, e.now()); err != nil {
			return rights.Result{}, err
		}
		if err := e.refresh(ctx); err != nil {
			return rights.Result{}, err
		}
	}
	return rights.Result{Count: total, Detail: detail}, nil
}

// Export lists the person's events, one table per dataset.
func (e *Events) Export(ctx context.Context, s rights.Subject) (rights.Export, error) {
	tables, err := e.tables(ctx, s)
	return rights.Export{Tables: tables, Attempts: 1}, err
}

func (e *Events) tables(ctx context.Context, s rights.Subject) ([]rights.Table, error) {
	var out []rights.Table
	for _, ds := range e.Registry.Current().Datasets {
		t := rights.Table{Name: ds.Name, Columns: []string{"received_at", "data"}}
		for _, k := range e.keys(s) {
			q := store.EventQuery{Dataset: ds.Name, SubjectKey: k, To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 1000}
			for {
				evs, err := e.Store.ListEvents(ctx, q)
				if err != nil {
					return nil, err
				}
				for _, ev := range evs {
					t.Rows = append(t.Rows, []string{ev.ReceivedAt.UTC().Format(time.RFC3339), string(ev.Data)})
				}
				if len(evs) < q.Limit {
					break
				}
				q.AfterSeq = evs[len(evs)-1].Seq
			}
		}
		if len(t.Rows) > 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

// Check reaches the store.
func (e *Events) Check(ctx context.Context) error {
	_, err := e.Store.ListEvents(ctx, store.EventQuery{Dataset: "-", Limit: 1})
	return err
}
