package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

// nextErasedSeq takes the next change number inside tx. The UPDATE holds
// the head row's lock until tx ends, so a second writer on any node waits,
// then numbers after it: numbers commit in order, and a poller that has
// seen n can never later meet a smaller number committing.
func nextErasedSeq(ctx context.Context, tx pgx.Tx) (int64, error) {
	var seq int64
	err := tx.QueryRow(ctx, "UPDATE erased_subjects_head SET seq = seq + 1 WHERE id = 1 RETURNING seq").Scan(&seq)
	return seq, wrap(err)
}

func (s *Store) AddErasedSubjects(ctx context.Context, requestID string, keys []string, at time.Time) error {
	var ks []string
	for _, k := range keys {
		if k != "" {
			ks = append(ks, k)
		}
	}
	return s.erasedTx(ctx, func(tx pgx.Tx, seq int64) error {
		_, err := tx.Exec(ctx, `INSERT INTO erased_subjects(subject_key, request_id, deactivated_at, seq)
			SELECT k, $2, $3, $4 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING`, ks, requestID, at.UTC(), seq)
		return err
	})
}

func (s *Store) MarkErasedPurged(ctx context.Context, requestID string, at time.Time) error {
	return s.erasedTx(ctx, func(tx pgx.Tx, seq int64) error {
		_, err := tx.Exec(ctx, "UPDATE erased_subjects SET purged_at = $1, seq = $2 WHERE request_id = $3 AND purged_at IS NULL",
			at.UTC(), seq, requestID)
		return err
	})
}

// erasedTx runs one numbered change to erased_subjects.
func (s *Store) erasedTx(ctx context.Context, fn func(tx pgx.Tx, seq int64) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback(context.Background())
	seq, err := nextErasedSeq(ctx, tx)
	if err != nil {
		return err
	}
	if err := fn(tx, seq); err != nil {
		return wrap(err)
	}
	return wrap(tx.Commit(ctx))
}

// ErasedSubjectsAfter asks the one-row head first (a one-time filter):
// when nothing changed, which is nearly every poll, the table itself is
// not read, however stale its planner statistics.
func (s *Store) ErasedSubjectsAfter(ctx context.Context, seq int64) ([]store.ErasedSubject, error) {
	rows, err := s.pool.Query(ctx, `SELECT subject_key, request_id, deactivated_at, purged_at, seq FROM erased_subjects
		WHERE seq > $1 AND (SELECT seq FROM erased_subjects_head WHERE id = 1) > $1 ORDER BY seq`, seq)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.ErasedSubject
	for rows.Next() {
		var e store.ErasedSubject
		var purged *time.Time
		if err := rows.Scan(&e.SubjectKey, &e.RequestID, &e.DeactivatedAt, &purged, &e.Seq); err != nil {
			return nil, wrap(err)
		}
		e.DeactivatedAt, e.PurgedAt = e.DeactivatedAt.UTC(), fromNull(purged)
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

func (s *Store) DeleteErasedPurgedBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM erased_subjects WHERE purged_at < $1", cutoff.UTC())
	if err != nil {
		return 0, wrap(err)
	}
	return tag.RowsAffected(), nil
}
