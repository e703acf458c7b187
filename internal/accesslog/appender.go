package accesslog

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/steward-privacy/steward/internal/groupcommit"
	"github.com/steward-privacy/steward/internal/store"
)

// ErrClosed is returned for entries offered after the appender was closed.
var ErrClosed = groupcommit.ErrClosed

// maxBatch bounds the entries of one append transaction.
const maxBatch = 500

// Appender is a group commit for the access log: concurrent readers hand it
// their entries, one goroutine appends everything that queued up while the
// previous transaction was in flight, and each caller returns only once the
// transaction holding its entry has committed. The chain is sealed inside
// that transaction, under the store's append lock, so entries from several
// processes never fork it.
type Appender struct {
	group     *groupcommit.Group[*Entry]
	metrics   atomic.Pointer[Metrics]
	committed atomic.Pointer[func()]
}

// OnCommit calls f after each append transaction commits (the breach
// monitor's Wake); f must not block.
func (a *Appender) OnCommit(f func()) { a.committed.Store(&f) }

// NewAppender starts an appender over st.
func NewAppender(st store.AccessLog, log *slog.Logger) *Appender {
	a := &Appender{}
	a.group = groupcommit.New(groupcommit.Config[*Entry]{
		Queue: 4096, MaxBatch: maxBatch,
		Commit: func(ctx context.Context, entries []*Entry) error {
			err := st.AppendAccess(ctx, entries, func(e *Entry, prev []byte) { Seal(e, prev) })
			if err != nil {
				log.Error("access log: append failed", "entries", len(entries), "err", err)
				a.metrics.Load().appendFailed(len(entries))
				return err
			}
			a.metrics.Load().appended(entries)
			if f := a.committed.Load(); f != nil {
				(*f)()
			}
			return nil
		},
	})
	return a
}

// SetMetrics counts appends in m from now on.
func (a *Appender) SetMetrics(m *Metrics) { a.metrics.Store(m) }

// Append records e durably and fills in its Seq, PrevHash and Hash. Subject
// keys are de-duplicated and sorted; Subjects defaults to their number.
// Once queued, the entry is written even if the caller goes away: the
// caller must not treat it as unrecorded while it may commit.
func (a *Appender) Append(ctx context.Context, e *Entry) error {
	slices.Sort(e.SubjectKeys)
	e.SubjectKeys = slices.Compact(e.SubjectKeys)
	if e.Subjects == 0 {
		e.Subjects = int64(len(e.SubjectKeys))
	}
	return a.group.Do(ctx, e)
}

// Close stops accepting entries, appends those already queued and waits.
func (a *Appender) Close() { a.group.Close() }
