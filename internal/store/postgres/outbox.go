package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/steward-privacy/steward/internal/store"
)

const outboxCols = "id, kind, recipient, subject, body, secrets, ref, created_at, next_attempt_at, attempts, last_error, sent_at, failed_at"

func scanOutbox(row pgx.Row) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	var s, f *time.Time
	if err := row.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Body, &m.SealedSecrets, &m.Ref, &m.CreatedAt, &m.NextAttemptAt, &m.Attempts, &m.LastError, &s, &f); err != nil {
		return m, err
	}
	m.CreatedAt, m.NextAttemptAt, m.SentAt, m.FailedAt = m.CreatedAt.UTC(), m.NextAttemptAt.UTC(), fromNull(s), fromNull(f)
	return m, nil
}

func collectOutbox(rows pgx.Rows) ([]store.OutboxMessage, error) {
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

// EnqueueOutbox inserts the messages in one statement (so in one implicit
// transaction).
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	return enqueueOutbox(ctx, s.pool, msgs)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// enqueueOutbox sends every message as arrays in one statement, whatever
// their number. A zero NextAttemptAt means due at CreatedAt.
func enqueueOutbox(ctx context.Context, db execer, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	var kind, to, subj, body, ref []string
	var sealed [][]byte
	var created, next []time.Time
	for _, m := range msgs {
		n := m.NextAttemptAt
		if n.IsZero() {
			n = m.CreatedAt
		}
		kind, to, subj, body, ref = append(kind, m.Kind), append(to, m.To), append(subj, m.Subject), append(body, m.Body), append(ref, m.Ref)
		created, next = append(created, m.CreatedAt), append(next, n)
		var x []byte // nil, so "no secrets" is NULL
		if len(m.SealedSecrets) > 0 {
			x = m.SealedSecrets
		}
		sealed = append(sealed, x)
	}
	_, err := db.Exec(ctx, `INSERT INTO outbox(kind, recipient, subject, body, secrets, ref, created_at, next_attempt_at)
		SELECT k, t, s, b, x, r, c, n FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::timestamptz[], $8::timestamptz[])
		WITH ORDINALITY AS u(k, t, s, b, x, r, c, n, o) ORDER BY o`, kind, to, subj, body, sealed, ref, created, next)
	return wrap(err)
}

// ClaimOutbox locks the due rows with SKIP LOCKED and leases them in the
// same statement: a second node's claim skips rows this one has locked and,
// once this commits, no longer finds them due. Attempts counts claims: a
// node that dies mid-send has still used one.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, `UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+outboxCols, now.Add(lease), now, limit)
	if err != nil {
		return nil, wrap(err)
	}
	out, err := collectOutbox(rows)
	if err != nil {
		return nil, err
	}
	// RETURNING has no defined order.
	slices.SortFunc(out, func(a, b store.OutboxMessage) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// MarkOutboxSent drops the sealed secrets with the same write: a sent
// message keeps none.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE outbox SET sent_at = $1, secrets = NULL WHERE id = $2", at, id)
	if err != nil {
		return wrap(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// MarkOutboxRetry leaves a message that is already sent (another node
// delivered it after this one's lease ran out) as sent. Giving up drops the
// sealed secrets: nothing will send them.
func (s *Store) MarkOutboxRetry(ctx context.Context, id int64, errText string, now, next time.Time) error {
	var exists bool
	var err error
	if next.IsZero() {
		err = s.pool.QueryRow(ctx, `WITH u AS (UPDATE outbox SET last_error = $1, failed_at = $2, secrets = NULL WHERE id = $3 AND sent_at IS NULL RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $3)`, errText, now, id).Scan(&exists)
	} else {
		err = s.pool.QueryRow(ctx, `WITH u AS (UPDATE outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $3)`, errText, next, id).Scan(&exists)
	}
	if err != nil {
		return wrap(err)
	}
	if !exists {
		return store.ErrNotFound
	}
	return nil
}

func (s *Store) SealOutbox(ctx context.Context, id int64, body string, sealed []byte) error {
	tag, err := s.pool.Exec(ctx, "UPDATE outbox SET body = $1, secrets = $2 WHERE id = $3 AND sent_at IS NULL AND failed_at IS NULL AND secrets IS NULL", body, sealed, id)
	if err != nil {
		return wrap(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// likeEscaper makes a literal prefix safe inside LIKE: refs such as
// "request:r_…" contain the wildcard "_".
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListOutbox uses LIKE with a literal prefix, which the text_pattern_ops
// index on ref answers as a range scan.
func (s *Store) ListOutbox(ctx context.Context, refPrefix string, limit int) ([]store.OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+outboxCols+` FROM outbox WHERE ref LIKE $1 ORDER BY created_at, id LIMIT $2`,
		likeEscaper.Replace(refPrefix)+"%", limit)
	if err != nil {
		return nil, wrap(err)
	}
	return collectOutbox(rows)
}

func (s *Store) PendingOutbox(ctx context.Context) (map[string]int64, error) {
	// The condition is outbox_due's, so only pending rows are read.
	rows, err := s.pool.Query(ctx, "SELECT kind, COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY kind")
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
