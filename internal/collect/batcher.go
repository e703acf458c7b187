package collect

import (
	"context"
	"fmt"

	"github.com/steward-privacy/steward/internal/groupcommit"
	"github.com/steward-privacy/steward/internal/store"
)

// ErrClosed is returned for writes offered after the batcher was closed.
var ErrClosed = groupcommit.ErrClosed

// Batcher is a group commit of events: concurrent requests hand it their
// events, one writer commits everything that queued up while the previous
// commit was in flight in a single transaction, and each request is
// answered only after the transaction holding its events has committed.
// Durability then costs one fsync per batch instead of one per event.
type Batcher struct {
	store   store.Events
	onBatch func(events int)
	group   *groupcommit.Group[*pending]
	events  []store.Event // the writer's scratch buffer
}

type pending struct {
	events []store.Event
	stored []bool
}

// NewBatcher starts a batcher. queue bounds how many requests may wait; past
// it, writes fail fast with store.ErrUnavailable so clients back off instead
// of piling up. onBatch, if set, observes each committed batch's size.
func NewBatcher(s store.Events, maxBatch, queue int, onBatch func(int)) *Batcher {
	b := &Batcher{store: s, onBatch: onBatch}
	b.group = groupcommit.New(groupcommit.Config[*pending]{
		Queue: queue, MaxBatch: maxBatch, FailFast: true,
		Size:   func(p *pending) int { return len(p.events) },
		Commit: b.commit,
	})
	return b
}

// Write stores events durably and reports which were new (not duplicates of
// an earlier client event id). It returns once they are committed, or with
// an error wrapping store.ErrUnavailable.
func (b *Batcher) Write(ctx context.Context, events []store.Event) ([]bool, error) {
	p := &pending{events: events}
	if err := b.group.Do(ctx, p); err != nil {
		return nil, err
	}
	return p.stored, nil
}

// Close stops accepting writes, commits everything already queued and waits
// for it.
func (b *Batcher) Close() { b.group.Close() }

func (b *Batcher) commit(ctx context.Context, batch []*pending) error {
	events := b.events[:0]
	for _, p := range batch {
		events = append(events, p.events...)
	}
	b.events = events
	stored, err := b.store.InsertEvents(ctx, events)
	clear(events)
	if err == nil && len(stored) != len(events) {
		err = fmt.Errorf("%w: store answered %d results for %d events", store.ErrUnavailable, len(stored), len(events))
	}
	if err != nil {
		return err
	}
	if b.onBatch != nil {
		b.onBatch(len(events))
	}
	off := 0
	for _, p := range batch {
		p.stored = stored[off : off+len(p.events)]
		off += len(p.events)
	}
	return nil
}
