package sqlite

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

const outboxCols = "id, kind, recipient, subject, body, secrets, ref, created_at, next_attempt_at, attempts, last_error, sent_at, failed_at"

func scanOutbox(sc interface{ Scan(...any) error }) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	var c, n, s, f int64
	if err := sc.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Body, &m.SealedSecrets, &m.Ref, &c, &n, &m.Attempts, &m.LastError, &s, &f); err != nil {
		return m, err
	}
	m.CreatedAt, m.NextAttemptAt, m.SentAt, m.FailedAt = tm(c), tm(n), tm(s), tm(f)
	return m, nil
}

// EnqueueOutbox inserts the messages in one transaction.
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	return s.InTx(ctx, func(tx store.Tx) error { return tx.EnqueueOutbox(ctx, msgs) })
}

// ClaimOutbox selects and leases in one statement on the single writer
// connection (BEGIN IMMEDIATE), so a second process sharing the file waits
// for the lease to be written and then no longer sees the rows as due.
// Attempts counts claims: a worker that dies mid-send has still used one.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxMessage, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE sent_at = 0 AND failed_at = 0 AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+outboxCols, us(now.Add(lease)), us(now), limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, wrap(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	// RETURNING has no defined order.
	slices.SortFunc(out, func(a, b store.OutboxMessage) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// MarkOutboxSent drops the sealed secrets with the same write: a sent
// message keeps none.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, "UPDATE outbox SET sent_at = ?, secrets = NULL WHERE id = ?", us(at), id)
	if err != nil {
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// MarkOutboxRetry leaves a message that is already sent (another worker
// delivered it after this one's lease ran out) as sent. Giving up drops the
// sealed secrets: nothing will send them.
func (s *Store) MarkOutboxRetry(ctx context.Context, id int64, errText string, now, next time.Time) error {
	var err error
	if next.IsZero() {
		_, err = s.w.ExecContext(ctx, "UPDATE outbox SET last_error = ?, failed_at = ?, secrets = NULL WHERE id = ? AND sent_at = 0", errText, us(now), id)
	} else {
		_, err = s.w.ExecContext(ctx, "UPDATE outbox SET last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at = 0", errText, us(next), id)
	}
	if err != nil {
		return wrap(err)
	}
	var one int
	return wrap(s.w.QueryRowContext(ctx, "SELECT 1 FROM outbox WHERE id = ?", id).Scan(&one))
}

func (s *Store) SealOutbox(ctx context.Context, id int64, body string, sealed []byte) error {
	res, err := s.w.ExecContext(ctx, "UPDATE outbox SET body = ?, secrets = ? WHERE id = ? AND sent_at = 0 AND failed_at = 0 AND secrets IS NULL", body, sealed, id)
	if err != nil {
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListOutbox matches the prefix as a range over the ref index; BINARY
// collation compares bytes, so the range is exact.
func (s *Store) ListOutbox(ctx context.Context, refPrefix string, limit int) ([]store.OutboxMessage, error) {
	query := "SELECT " + outboxCols + " FROM outbox WHERE ref >= ?"
	args := []any{refPrefix}
	if end, ok := prefixEnd(refPrefix); ok {
		query += " AND ref < ?"
		args = append(args, end)
	}
	query += " ORDER BY created_at, id LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, wrap(err)
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err())
}

// prefixEnd returns the smallest byte string greater than every string
// starting with p, or false when there is none (p empty or all 0xff).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

func (s *Store) PendingOutbox(ctx context.Context) (map[string]int64, error) {
	// The condition is outbox_due's, so only pending rows are read.
	rows, err := s.r.QueryContext(ctx, "SELECT kind, COUNT(*) FROM outbox WHERE sent_at = 0 AND failed_at = 0 GROUP BY kind")
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, wrap(err)
		}
		out[kind] = n
	}
	return out, wrap(rows.Err())
}
