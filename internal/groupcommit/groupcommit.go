// Package groupcommit makes many small durable writes cost one transaction:
// concurrent callers hand their work to one writer, which commits
// everything that queued up while the previous commit was in flight, and
// each caller returns only once the commit holding its work has finished.
// Collection and the access log both write this way.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/steward-privacy/steward/internal/store"
)

// ErrClosed is returned for work offered after Close.
var ErrClosed = errors.New("shutting down")

// Config shapes a Group.
type Config[T any] struct {
	// Queue bounds how many callers may wait for a commit.
	Queue int
	// MaxBatch bounds one commit, counted with Size (1 per item if nil).
	MaxBatch int
	Size     func(T) int
	// FailFast answers store.ErrUnavailable at once when the queue is full,
	// so clients back off; otherwise a caller waits for room until its
	// context ends.
	FailFast bool
	// Commit writes the items in one transaction and records each item's
	// own result in it. It runs on the one writer goroutine, with a context
	// no caller can cancel: a shared commit must not be cut short by one.
	Commit func(ctx context.Context, items []T) error
}

// Group is one writer and its queue.
type Group[T any] struct {
	cfg Config[T]
	in  chan *call[T]

	mu     sync.RWMutex // guards closed against sends racing Close
	closed bool
	done   chan struct{}
}

type call[T any] struct {
	item T
	err  error
	done chan struct{}
}

// New starts the writer.
func New[T any](cfg Config[T]) *Group[T] {
	if cfg.Size == nil {
		cfg.Size = func(T) int { return 1 }
	}
	g := &Group[T]{cfg: cfg, in: make(chan *call[T], cfg.Queue), done: make(chan struct{})}
	go g.run()
	return g
}

// Do queues item and returns once the commit holding it has finished,
// with that commit's error. Errors wrap store.ErrUnavailable (or are ctx's
// error when the caller gave up before the item was queued).
func (g *Group[T]) Do(ctx context.Context, item T) error {
	c := &call[T]{item: item, done: make(chan struct{})}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return fmt.Errorf("%w: %w", store.ErrUnavailable, ErrClosed)
	}
	if g.cfg.FailFast {
		select {
		case g.in <- c:
		default:
			g.mu.RUnlock()
			return fmt.Errorf("%w: write queue is full", store.ErrUnavailable)
		}
	} else {
		select {
		case g.in <- c:
		case <-ctx.Done():
			g.mu.RUnlock()
			return ctx.Err()
		}
	}
	g.mu.RUnlock()
	// Once queued the item is written even if the caller goes away:
	// answering before the outcome is known would break "ack only durable".
	<-c.done
	return c.err
}

// Close stops accepting work, commits everything already queued and waits.
func (g *Group[T]) Close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.in)
	}
	g.mu.Unlock()
	<-g.done
}

func (g *Group[T]) run() {
	defer close(g.done)
	var batch []*call[T]
	var items []T
	for first := range g.in {
		batch, items = append(batch[:0], first), append(items[:0], first.item)
		n := g.cfg.Size(first.item)
		// Take whatever else is already waiting, up to the batch limit.
	drain:
		for n < g.cfg.MaxBatch {
			select {
			case c, ok := <-g.in:
				if !ok {
					break drain
				}
				batch, items = append(batch, c), append(items, c.item)
				n += g.cfg.Size(c.item)
			default:
				break drain
			}
		}
		err := g.cfg.Commit(context.Background(), items)
		if err != nil && !errors.Is(err, store.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		for _, c := range batch {
			c.err = err
			close(c.done)
		}
		clear(items) // drop references to committed work
	}
}
