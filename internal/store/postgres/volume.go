package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

func (s *Store) AddCollectionDays(ctx context.Context, rows []store.CollectionDay) error {
	if len(rows) == 0 {
		return nil
	}
	// One batch, in one transaction; rows in key order, so two nodes
	// adding to the same rows take their locks in the same order and
	// never deadlock.
	b := &pgx.Batch{}
	for _, r := range sortedDays(rows) {
		b.Queue(`INSERT INTO collection_days(day, dataset, outcome, reason, count) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (day, dataset, outcome, reason) DO UPDATE SET count = collection_days.count + EXCLUDED.count`,
			r.Day.UTC().Format(time.DateOnly), r.Dataset, r.Outcome, r.Reason, r.Count)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return wrap(err)
	}
	return wrap(tx.Commit(ctx))
}

func (s *Store) CollectionDays(ctx context.Context, from, to time.Time) ([]store.CollectionDay, error) {
	rows, err := s.pool.Query(ctx, `SELECT day, dataset, outcome, reason, count FROM collection_days
		WHERE day >= $1::date AND day < $2::date ORDER BY day, dataset, outcome, reason`, from.UTC().Format(time.DateOnly), dayAfter(to))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.CollectionDay
	for rows.Next() {
		var r store.CollectionDay
		if err := rows.Scan(&r.Day, &r.Dataset, &r.Outcome, &r.Reason, &r.Count); err != nil {
			return nil, wrap(err)
		}
		r.Day = time.Date(r.Day.Year(), r.Day.Month(), r.Day.Day(), 0, 0, 0, 0, time.UTC)
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

// dayAfter is the first day that starts at or after t, as a date: days
// before it start before t.
func dayAfter(t time.Time) string {
	d := t.UTC().Truncate(24 * time.Hour)
	if d.Before(t) {
		d = d.Add(24 * time.Hour)
	}
	return d.Format(time.DateOnly)
}

func sortedDays(rows []store.CollectionDay) []store.CollectionDay {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b store.CollectionDay) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Dataset, b.Dataset), cmp.Compare(a.Outcome, b.Outcome), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}
