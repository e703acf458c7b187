// Package erasure keeps each node's copy of the suppression list: the
// subject keys erasure requests have deactivated (store.ErasedSubjects),
// which collection checks for every event so that an erased person's
// client, still sending, does not put them back. The list lives in the
// store; each node holds it in memory, so the check costs a map lookup,
// and polls the store for changes (one indexed query that usually returns
// nothing). A key is suppressed from its deactivation, long before the
// purge, so the purge never opens a gap before every node has caught up.
package erasure

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// DefaultPollEvery is how often a node asks the store for changes to the
// list: the longest a key deactivated on another node may still be
// collected here.
const DefaultPollEvery = 2 * time.Second

// List is one node's copy of the suppression list.
type List struct {
	store    store.ErasedSubjects
	registry *registry.Source
	now      func() time.Time
	log      *slog.Logger

	mu   sync.Mutex // serialises refreshes
	seq  int64      // the last change read
	rows map[string]map[string]store.ErasedSubject
	// cur is what collection reads: replaced whole on every change, never
	// modified, so a lookup takes no lock.
	cur atomic.Pointer[map[string]suppression]
}

// suppression is what is known of one key across the requests that
// erased it.
type suppression struct {
	pending  bool      // some request has deactivated it and not purged
	purgedAt time.Time // the latest purge among the others
}

// New returns an empty list; Refresh fills it. reg says how long each
// dataset suppresses a purged key (registry.Dataset.SuppressFor); now is
// the clock that judges it.
func New(st store.ErasedSubjects, reg *registry.Source, now func() time.Time, log *slog.Logger) *List {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &List{store: st, registry: reg, now: now, log: log, rows: map[string]map[string]store.ErasedSubject{}}
	l.cur.Store(&map[string]suppression{})
	return l
}

// Suppressed reports whether collection must drop an event of subject key
// in ds received at now: the key was deactivated by an erasure that is not
// purged, or was purged less than ds.SuppressFor() ago.
func (l *List) Suppressed(ds *registry.Dataset, key string, now time.Time) bool {
	if key == "" {
		return false
	}
	m := *l.cur.Load()
	if len(m) == 0 {
		return false
	}
	s, ok := m[key]
	if !ok {
		return false
	}
	return s.pending || now.Before(s.purgedAt.Add(ds.SuppressFor()))
}

// DeactivatedAt is when request deactivated key, as far as this node has
// read the list.
func (l *List) DeactivatedAt(key, request string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.rows[key][request]
	return r.DeactivatedAt, ok
}

// Len is how many keys the list holds.
func (l *List) Len() int { return len(*l.cur.Load()) }

// Refresh reads the changes made since the last refresh, on any node, and
// reports whether there were any. The deactivating node calls it at once;
// the others within their poll interval (Watch).
func (l *List) Refresh(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changes, err := l.store.ErasedSubjectsAfter(ctx, l.seq)
	if err != nil || len(changes) == 0 {
		return false, err
	}
	for _, c := range changes {
		byReq := l.rows[c.SubjectKey]
		if byReq == nil {
			byReq = map[string]store.ErasedSubject{}
			l.rows[c.SubjectKey] = byReq
		}
		byReq[c.RequestID] = c
		l.seq = max(l.seq, c.Seq)
	}
	// Keys whose suppression has ended in every dataset are forgotten, as
	// the retention sweep forgets them in the store.
	longest := l.longest()
	now := l.now()
	next := make(map[string]suppression, len(l.rows))
	for key, byReq := range l.rows {
		var s suppression
		for _, r := range byReq {
			if r.PurgedAt.IsZero() {
				s.pending = true
			} else if r.PurgedAt.After(s.purgedAt) {
				s.purgedAt = r.PurgedAt
			}
		}
		if !s.pending && !now.Before(s.purgedAt.Add(longest)) {
			delete(l.rows, key)
			continue
		}
		next[key] = s
	}
	l.cur.Store(&next)
	return true, nil
}

// longest is the longest suppression any dataset in force declares.
func (l *List) longest() time.Duration {
	var d time.Duration
	if reg := l.registry.Current(); reg != nil {
		for _, ds := range reg.Datasets {
			d = max(d, ds.SuppressFor())
		}
	}
	return d
}

// Forget deletes from the store the keys whose suppression has ended in
// every dataset in force, and returns how many rows went. Keys still
// waiting for their purge are kept: they also hide events from reads.
func (l *List) Forget(ctx context.Context) (int64, error) {
	return l.store.DeleteErasedPurgedBefore(ctx, l.now().Add(-l.longest()))
}

// Watch refreshes every interval until ctx ends, so a key deactivated on
// another node is suppressed here within that delay.
func (l *List) Watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultPollEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := l.Refresh(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			l.log.Error("erasure: cannot read the suppression list; keeping the copy in force", "keys", l.Len(), "err", err)
		case changed:
			l.log.Info("erasure: suppression list changed", "keys", l.Len())
		}
	}
}
