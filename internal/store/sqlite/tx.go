package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
)

// InTx runs fn in a transaction on the single writer connection (BEGIN
// IMMEDIATE, from the DSN), so it never meets a busy database halfway
// through: other writers of this process wait for the connection, other
// processes for the file lock.
func (s *Store) InTx(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	// After Commit this does nothing; when fn fails or panics it undoes
	// fn's writes and gives the writer connection back.
	defer sqlTx.Rollback()
	if err := fn(tx{sqlTx}); err != nil {
		return err
	}
	return wrap(sqlTx.Commit())
}

type tx struct{ tx *sql.Tx }

func (t tx) CreateRequest(ctx context.Context, r store.Request) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO requests("+requestCols+") VALUES ("+strings.TrimSuffix(strings.Repeat("?,", 29), ",")+")", requestArgs(&r)...)
	return wrap(err)
}

func (t tx) UpdateRequest(ctx context.Context, r store.Request) (int64, error) {
	read := r.Version
	r.Version++
	args := append(requestArgs(&r)[1:], r.ID, read)
	res, err := t.tx.ExecContext(ctx, `UPDATE requests SET status_token_hash=?, channel=?, type=?, status=?, email=?, app_user_id=?,
		facebook_user_id=?, subject_key=?, account_id=?, law=?, due_at=?, extension_reason=?, email_confirmed_at=?, confirm_hash=?,
		confirmation_code=?, question=?, answer=?, reject_reason=?, assignee=?, grace_until=?, export_path=?, export_expires_at=?,
		receipt=?, created_at=?, updated_at=?, status_at=?, version=?, glean_client_id=? WHERE id=? AND version=?`, args...)
	if err != nil {
		return 0, wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, store.ErrConflict
	}
	return r.Version, nil
}

func (t tx) AppendRequestEvent(ctx context.Context, ev store.RequestEvent) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO request_events(request_id, at, actor, from_status, to_status, note) VALUES (?,?,?,?,?,?)",
		ev.RequestID, us(ev.At), ev.Actor, ev.From, ev.To, ev.Note)
	return wrap(err)
}

// EnqueueOutbox uses multi-row inserts of at most chunk rows.
func (t tx) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	for start := 0; start < len(msgs); start += chunk {
		part := msgs[start:min(start+chunk, len(msgs))]
		args := make([]any, 0, 8*len(part))
		for _, m := range part {
			next := m.NextAttemptAt
			if next.IsZero() {
				next = m.CreatedAt
			}
			args = append(args, m.Kind, m.To, m.Subject, m.Body, nilIfEmpty(m.SealedSecrets), m.Ref, us(m.CreatedAt), us(next))
		}
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO outbox(kind, recipient, subject, body, secrets, ref, created_at, next_attempt_at) VALUES "+
			placeholders(len(part), 8), args...); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// nilIfEmpty stores an empty byte slice as NULL, so "no secrets" has one
// form in the database.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (t tx) AddAccessCheckpoint(ctx context.Context, c store.AccessCheckpoint) (bool, error) {
	res, err := t.tx.ExecContext(ctx, "INSERT INTO access_checkpoints(seq, hash, signed_at, signed) VALUES (?,?,?,?) ON CONFLICT (seq) DO NOTHING",
		c.Seq, c.Hash, us(c.SignedAt), c.Signed)
	if err != nil {
		return false, wrap(err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err)
}
