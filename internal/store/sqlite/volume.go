package sqlite

import (
	"context"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

func (s *Store) AddCollectionDays(ctx context.Context, rows []store.CollectionDay) error {
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO collection_days(day, dataset, outcome, reason, count) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, dataset, outcome, reason) DO UPDATE SET count = count + excluded.count`,
			us(day(r.Day)), r.Dataset, r.Outcome, r.Reason, r.Count); err != nil {
			return wrap(err)
		}
	}
	return wrap(tx.Commit())
}

func (s *Store) CollectionDays(ctx context.Context, from, to time.Time) ([]store.CollectionDay, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT day, dataset, outcome, reason, count FROM collection_days
		WHERE day >= ? AND day < ? ORDER BY day, dataset, outcome, reason`, us(day(from)), us(to))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.CollectionDay
	for rows.Next() {
		var r store.CollectionDay
		var d int64
		if err := rows.Scan(&d, &r.Dataset, &r.Outcome, &r.Reason, &r.Count); err != nil {
			return nil, wrap(err)
		}
		r.Day = tm(d)
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

// day is t's midnight, UTC.
func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
