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

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
)

// Events is steward's own event store. Events are stored under the keyed
// hash of the dataset's subject identifier, so erasure hashes each known
// identifier of the person the same way (package subject) and deletes by
// key in every dataset.
type Events struct {
	Store    store.Events
	Keyer    *minimise.Keyer
	Registry *registry.Source
}

// Name implements rights.Connector.
func (e *Events) Name() string { return "steward-events" }

// keys are the subject keys the person's identifiers hash to, with the
// keys of the identifiers as given, for events collected before
// identifiers were normalised. The e-mail address is known to be one; an
// account or app user id may have been collected as any kind, so it is
// hashed as its shape allows (subject.AnyKeys).
func (e *Events) keys(s rights.Subject) []string {
	out := subject.Keys(e.Keyer, subject.Email, s.Email)
	for _, id := range []string{s.AccountID, s.AppUserID} {
		out = append(out, subject.AnyKeys(e.Keyer, id)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Deactivate has nothing to switch off: events are only ever read under
// the read policy.
func (e *Events) Deactivate(ctx context.Context, s rights.Subject) (rights.Result, error) {
	return rights.Result{Detail: "nothing to deactivate; events are deleted at purge"}, nil
}

// Purge deletes every event of the person in every dataset.
func (e *Events) Purge(ctx context.Context, s rights.Subject) (rights.Result, error) {
	var total int64
	per := map[string]int64{}
	for _, k := range e.keys(s) {
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
	return rights.Result{Count: total, Detail: detail}, nil
}

// Export lists the person's events, one table per dataset.
func (e *Events) Export(ctx context.Context, s rights.Subject) ([]rights.Table, error) {
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
