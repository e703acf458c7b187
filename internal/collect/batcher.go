package collect

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/steward-privacy/steward/internal/store"
)

// ErrClosed is returned for writes offered after the batcher was closed.
var ErrClosed = errors.New("collector is shutting down")

// Batcher is a group commit: concurrent requests hand it their events, one
// writer commits everything that queued up while the previous commit was in
// flight in a single transaction, and each request is answered only after
// the transaction holding its events has committed. Durability then costs
// one fsync per batch instead of one per event.
type Batcher struct {
	store    store.Events
	maxBatch int
	in       chan *pending
	onBatch  func(events int)

	mu     sync.RWMutex // guards closed against sends racing Close
	closed bool
	done   chan struct{}
}

type pending struct {
	events []store.Event
	stored []bool
	err    error
	done   chan struct{}
}

// NewBatcher starts a batcher. queue bounds how many requests may wait; past
// it, writes fail fast with store.ErrUnavailable so clients back off instead
// of piling up. onBatch, if set, observes each committed batch's size.
func NewBatcher(s store.Events, maxBatch, queue int, onBatch func(int)) *Batcher {
	b := &Batcher{
		store:    s,
		maxBatch: maxBatch,
		in:       make(chan *pending, queue),
		onBatch:  onBatch,
		done:     make(chan struct{}),
	}
	go b.run()
	return b
}

// Write stores events durably and reports which were new (not duplicates of
// an earlier client event id). It returns once they are committed, or with
// an error wrapping store.ErrUnavailable.
func (b *Batcher) Write(ctx context.Context, events []store.Event) ([]bool, error) {
	p := &pending{events: events, done: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, ErrClosed)
	}
	select {
	case b.in <- p:
	default:
		b.mu.RUnlock()
		return nil, fmt.Errorf("%w: write queue is full", store.ErrUnavailable)
	}
	b.mu.RUnlock()
	// Once queued the events will be written even if the client goes away:
	// answering before the outcome is known would break "ack only durable".
	<-p.done
	return p.stored, p.err
}

// Close stops accepting writes, commits everything already queued and waits
// for it.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	<-b.done
}

func (b *Batcher) run() {
	defer close(b.done)
	var batch []*pending
	var events []store.Event
	for first := range b.in {
		batch = append(batch[:0], first)
		events = append(events[:0], first.events...)
		// Take whatever else is already waiting, up to the batch limit.
	drain:
		for len(events) < b.maxBatch {
			select {
			case p, ok := <-b.in:
				if !ok {
					break drain
				}
				batch = append(batch, p)
				events = append(events, p.events...)
			default:
				break drain
			}
		}
		b.commit(batch, events)
	}
}

func (b *Batcher) commit(batch []*pending, events []store.Event) {
	// A commit must not be cut short by any one client's context.
	stored, err := b.store.InsertEvents(context.Background(), events)
	if err == nil && len(stored) != len(events) {
		err = fmt.Errorf("%w: store answered %d results for %d events", store.ErrUnavailable, len(stored), len(events))
	}
	if err != nil && !errors.Is(err, store.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	if err == nil && b.onBatch != nil {
		b.onBatch(len(events))
	}
	off := 0
	for _, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.stored = stored[off : off+len(p.events)]
		}
		off += len(p.events)
		close(p.done)
	}
}
