package accesslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/steward-privacy/steward/internal/store"
)

// ErrClosed is returned for entries offered after the appender was closed.
var ErrClosed = errors.New("access log is shutting down")

// maxBatch bounds the entries of one append transaction.
const maxBatch = 500

// Appender is a group commit for the access log: concurrent readers hand it
// their entries, one goroutine appends everything that queued up while the
// previous transaction was in flight, and each caller returns only once the
// transaction holding its entry has committed. The chain is sealed inside
// that transaction, under the store's append lock, so entries from several
// processes never fork it.
type Appender struct {
	store store.AccessLog
	log   *slog.Logger
	in    chan *pendingEntry

	mu     sync.RWMutex // guards closed against sends racing Close
	closed bool
	done   chan struct{}
}

type pendingEntry struct {
	e    *Entry
	err  error
	done chan struct{}
}

// NewAppender starts an appender over st.
func NewAppender(st store.AccessLog, log *slog.Logger) *Appender {
	a := &Appender{store: st, log: log, in: make(chan *pendingEntry, 4096), done: make(chan struct{})}
	go a.run()
	return a
}

// Append records e durably and fills in its Seq, PrevHash and Hash. Subject
// keys are de-duplicated and sorted; Subjects defaults to their number.
func (a *Appender) Append(ctx context.Context, e *Entry) error {
	slices.Sort(e.SubjectKeys)
	e.SubjectKeys = slices.Compact(e.SubjectKeys)
	if e.Subjects == 0 {
		e.Subjects = int64(len(e.SubjectKeys))
	}
	p := &pendingEntry{e: e, done: make(chan struct{})}
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return fmt.Errorf("%w: %w", store.ErrUnavailable, ErrClosed)
	}
	select {
	case a.in <- p:
	case <-ctx.Done():
		a.mu.RUnlock()
		return ctx.Err()
	}
	a.mu.RUnlock()
	// Once queued, the entry is written even if the caller goes away: the
	// caller must not treat it as unrecorded while it may commit.
	<-p.done
	return p.err
}

// Close stops accepting entries, appends those already queued and waits.
func (a *Appender) Close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.in)
	}
	a.mu.Unlock()
	<-a.done
}

func (a *Appender) run() {
	defer close(a.done)
	var batch []*pendingEntry
	var entries []*Entry
	for first := range a.in {
		batch, entries = append(batch[:0], first), append(entries[:0], first.e)
	drain:
		for len(entries) < maxBatch {
			select {
			case p, ok := <-a.in:
				if !ok {
					break drain
				}
				batch, entries = append(batch, p), append(entries, p.e)
			default:
				break drain
			}
		}
		// One caller's context must not cut a shared transaction short.
		err := a.store.AppendAccess(context.Background(), entries, func(e *Entry, prev []byte) { Seal(e, prev) })
		if err != nil {
			a.log.Error("access log: append failed", "entries", len(entries), "err", err)
			if !errors.Is(err, store.ErrUnavailable) {
				err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
			}
		}
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
	}
}
