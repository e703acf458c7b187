package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// nextErasedSeq takes the next change number inside tx. The writer's
// immediate transaction already orders changes, so numbers commit in order.
func nextErasedSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, "UPDATE erased_subjects_head SET seq = seq + 1 WHERE id = 1 RETURNING seq").Scan(&seq)
	return seq, wrap(err)
}

func (s *Store) AddErasedSubjects(ctx context.Context, requestID string, keys []string, at time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	seq, err := nextErasedSeq(ctx, tx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO erased_subjects(subject_key, request_id, deactivated_at, seq) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, k, requestID, us(at), seq); err != nil {
			return wrap(err)
		}
	}
	return wrap(tx.Commit())
}

func (s *Store) MarkErasedPurged(ctx context.Context, requestID string, at time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	seq, err := nextErasedSeq(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE erased_subjects SET purged_at = ?, seq = ? WHERE request_id = ? AND purged_at = 0",
		us(at), seq, requestID); err != nil {
		return wrap(err)
	}
	return wrap(tx.Commit())
}

// ErasedSubjectsAfter asks the one-row head first (a one-time filter):
// when nothing changed, which is nearly every poll, the table itself is
// not read, however stale its planner statistics.
func (s *Store) ErasedSubjectsAfter(ctx context.Context, seq int64) ([]store.ErasedSubject, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT subject_key, request_id, deactivated_at, purged_at, seq FROM erased_subjects
		WHERE seq > ? AND (SELECT seq FROM erased_subjects_head WHERE id = 1) > ? ORDER BY seq`, seq, seq)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.ErasedSubject
	for rows.Next() {
		var e store.ErasedSubject
		var d, p int64
		if err := rows.Scan(&e.SubjectKey, &e.RequestID, &d, &p, &e.Seq); err != nil {
			return nil, wrap(err)
		}
		e.DeactivatedAt, e.PurgedAt = tm(d), tm(p)
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

func (s *Store) DeleteErasedPurgedBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM erased_subjects WHERE purged_at <> 0 AND purged_at < ?", us(cutoff))
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
