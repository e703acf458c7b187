package store

import (
	"context"
	"time"
)

// CollectionDay is how many events of a dataset met one outcome on one
// day (UTC): accepted, dropped for a reason (opt_out, sampled, erased…),
// or in requests rejected for a reason. Counts only, nothing about anyone.
type CollectionDay struct {
	Day     time.Time // midnight UTC
	Dataset string
	// Outcome is "accepted", "dropped" (Count is events) or "rejected"
	// (Count is requests refused before anything was stored).
	Outcome string
	Reason  string
	Count   int64
}

// CollectionVolume keeps the daily collection counts.
type CollectionVolume interface {
	// AddCollectionDays adds each row's Count to the stored count of its
	// (Day, Dataset, Outcome, Reason), in one transaction: several nodes
	// add to the same rows.
	AddCollectionDays(ctx context.Context, rows []CollectionDay) error
	// CollectionDays returns the counts of the days in [from, to), by
	// day, dataset, outcome and reason.
	CollectionDays(ctx context.Context, from, to time.Time) ([]CollectionDay, error)
}
