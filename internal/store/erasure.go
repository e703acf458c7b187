package store

import (
	"context"
	"time"
)

// ErasedSubject is one subject key an erasure request has deactivated. It
// holds the key, the request and the times, never the identifier: the
// list of erased people must not itself be a list of people.
type ErasedSubject struct {
	SubjectKey string
	RequestID  string
	// DeactivatedAt is when the request deactivated the key: from then on
	// ListEvents hides its events and collection refuses new ones.
	DeactivatedAt time.Time
	// PurgedAt is when the purge deleted the key's events (zero until
	// then); collection keeps refusing the key for each dataset's
	// suppress_erased after it.
	PurgedAt time.Time
	// Seq is the change that last wrote the row. It grows in commit order
	// across every node, so a node that has read up to n misses nothing by
	// asking only for rows after n.
	Seq int64
}

// ErasedSubjects is the suppression list of erased subject keys.
type ErasedSubjects interface {
	// AddErasedSubjects records keys (blank ones skipped) as deactivated by
	// requestID at, in one transaction: once it commits, no read returns
	// their events. A key already recorded for the request keeps its row.
	AddErasedSubjects(ctx context.Context, requestID string, keys []string, at time.Time) error
	// MarkErasedPurged records that the request's keys were purged at.
	// Call it only after their events are deleted: from then on ListEvents
	// no longer hides them (there is nothing left to hide).
	MarkErasedPurged(ctx context.Context, requestID string, at time.Time) error
	// ErasedSubjectsAfter returns the rows written by changes after seq, in
	// Seq order. With nothing new it is one indexed probe: nodes poll it.
	ErasedSubjectsAfter(ctx context.Context, seq int64) ([]ErasedSubject, error)
	// DeleteErasedPurgedBefore forgets keys purged before cutoff (their
	// suppression has ended everywhere) and returns how many rows it
	// deleted. Keys not yet purged are never deleted.
	DeleteErasedPurgedBefore(ctx context.Context, cutoff time.Time) (int64, error)
}
