// Package volume keeps collection volume per dataset and day: events
// accepted, events dropped by reason, requests rejected by reason. The
// collection hot path only adds to counters in memory; a loop adds them to
// the store every few seconds, so a busy endpoint pays a map update per
// request, not a write (BenchmarkAdd), and every node's counts add up in
// the same rows.
//
// The counts are statistics, not acknowledged data: a node that crashes
// loses at most its last interval's counts (the events themselves are
// durable or refused as always). A write that fails keeps the counts in
// memory for the next.
package volume

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// Outcomes, as store.CollectionDay has them.
const (
	Accepted = "accepted"
	Dropped  = "dropped"
	Rejected = "rejected"
)

// DefaultEvery is how often counts reach the store.
const DefaultEvery = 10 * time.Second

// Tally counts in memory and flushes to the store.
type Tally struct {
	Store store.CollectionVolume
	Log   *slog.Logger
	Every time.Duration

	mu     sync.Mutex
	counts map[key]int64
	// flushing serialises flushes (the loop's and the last at shutdown).
	flushing sync.Mutex
}

type key struct {
	day                      int64 // days since the Unix epoch, UTC
	dataset, outcome, reason string
}

// Add counts n of an outcome for dataset on the day (UTC) of at, the
// request's time: the caller has read the clock already, and a clock read
// costs more than the count.
func (t *Tally) Add(at time.Time, dataset, outcome, reason string, n int) {
	if n <= 0 {
		return
	}
	k := key{day: at.Unix() / 86400, dataset: dataset, outcome: outcome, reason: reason}
	t.mu.Lock()
	if t.counts == nil {
		t.counts = map[key]int64{}
	}
	t.counts[k] += int64(n)
	t.mu.Unlock()
}

// take empties the counters and returns what they held.
func (t *Tally) take() map[key]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts
	t.counts = nil
	return c
}

// putBack adds counts that could not be stored to the counters again.
func (t *Tally) putBack(c map[key]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[key]int64{}
	}
	for k, n := range c {
		t.counts[k] += n
	}
}

func rows(c map[key]int64) []store.CollectionDay {
	out := make([]store.CollectionDay, 0, len(c))
	for k, n := range c {
		out = append(out, store.CollectionDay{Day: time.Unix(k.day*86400, 0).UTC(), Dataset: k.dataset, Outcome: k.outcome, Reason: k.reason, Count: n})
	}
	return out
}

// Flush adds the counts so far to the store. On failure they stay in
// memory and the next flush tries again.
func (t *Tally) Flush(ctx context.Context) error {
	t.flushing.Lock()
	defer t.flushing.Unlock()
	c := t.take()
	if len(c) == 0 {
		return nil
	}
	if err := t.Store.AddCollectionDays(ctx, rows(c)); err != nil {
		t.putBack(c)
		return err
	}
	return nil
}

// Run flushes every Every until ctx ends. The server flushes once more at
// shutdown, after the last event is in.
func (t *Tally) Run(ctx context.Context) {
	every := t.Every
	if every <= 0 {
		every = DefaultEvery
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if err := t.Flush(ctx); err != nil && ctx.Err() == nil {
				t.Log.Warn("collection volume: counts not stored yet; kept for the next try", "err", err)
			}
		}
	}
}

// Days returns the counts of the days in [from, to): the stored ones and
// this node's not yet flushed, so a page shows them at once.
func (t *Tally) Days(ctx context.Context, from, to time.Time) ([]store.CollectionDay, error) {
	// Held so a flush in progress is either all in the store or all in
	// memory, never counted twice or missed.
	t.flushing.Lock()
	defer t.flushing.Unlock()
	stored, err := t.Store.CollectionDays(ctx, from, to)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	pending := rows(t.counts)
	t.mu.Unlock()
	idx := map[key]int{}
	for i, r := range stored {
		idx[key{r.Day.Unix() / 86400, r.Dataset, r.Outcome, r.Reason}] = i
	}
	for _, r := range pending {
		if r.Day.Before(from.UTC().Truncate(24*time.Hour)) || !r.Day.Before(to) {
			continue
		}
		k := key{r.Day.Unix() / 86400, r.Dataset, r.Outcome, r.Reason}
		if i, ok := idx[k]; ok {
			stored[i].Count += r.Count
		} else {
			idx[k] = len(stored)
			stored = append(stored, r)
		}
	}
	return stored, nil
}
