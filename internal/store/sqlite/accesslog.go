package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
)

const accessCols = "seq, at, actor, auth_method, credential_id, role, purpose, dataset, query, records, subjects, subject_keys, client_net, decision, reason, prev_hash, hash"

// AppendAccess appends in one IMMEDIATE transaction on the single writer
// connection: the head read, the sealing and the insert cannot interleave
// with another append.
func (s *Store) AppendAccess(ctx context.Context, entries []*store.AccessEntry, seal func(*store.AccessEntry, []byte)) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	if err := appendAccess(ctx, tx, entries, seal); err != nil {
		return err
	}
	return wrap(tx.Commit())
}

// appendAccess appends inside tx, which holds the single writer
// connection: that is the append lock.
func appendAccess(ctx context.Context, tx *sql.Tx, entries []*store.AccessEntry, seal func(*store.AccessEntry, []byte)) error {
	if len(entries) == 0 {
		return nil
	}
	var seq int64
	var prev []byte
	err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return wrap(err)
	}
	for _, e := range entries {
		seq++
		e.Seq = seq
		seal(e, prev)
		prev = e.Hash
	}
	// 17 columns: 50 rows keep a statement well under SQLite's limits.
	const rowsPer = 50
	for start := 0; start < len(entries); start += rowsPer {
		part := entries[start:min(start+rowsPer, len(entries))]
		args := make([]any, 0, 17*len(part))
		for _, e := range part {
			args = append(args, e.Seq, us(e.At), e.Actor, e.AuthMethod, e.CredentialID, e.Role, e.Purpose, e.Dataset,
				e.Query, e.Records, e.Subjects, strings.Join(e.SubjectKeys, " "), e.ClientNet, e.Decision, e.Reason,
				e.PrevHash, e.Hash)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO access_log("+accessCols+") VALUES "+placeholders(len(part), 17), args...); err != nil {
			return wrap(err)
		}
	}
	var subj []any
	for _, e := range entries {
		for _, k := range e.SubjectKeys {
			subj = append(subj, k, e.Seq)
		}
	}
	for start := 0; start < len(subj); start += 2 * chunk {
		part := subj[start:min(start+2*chunk, len(subj))]
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO access_log_subjects(subject_key, seq) VALUES "+placeholders(len(part)/2, 2), part...); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func scanAccess(rows *sql.Rows, e *store.AccessEntry) error {
	var at int64
	var keys string
	if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.AuthMethod, &e.CredentialID, &e.Role, &e.Purpose, &e.Dataset,
		&e.Query, &e.Records, &e.Subjects, &keys, &e.ClientNet, &e.Decision, &e.Reason, &e.PrevHash, &e.Hash); err != nil {
		return err
	}
	e.At = tm(at)
	e.SubjectKeys = nil
	if keys != "" {
		e.SubjectKeys = strings.Split(keys, " ")
	}
	return nil
}

func (s *Store) AccessHead(ctx context.Context) (store.AccessEntry, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+accessCols+" FROM access_log ORDER BY seq DESC LIMIT 1")
	if err != nil {
		return store.AccessEntry{}, wrap(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.AccessEntry{}, wrap(err)
		}
		return store.AccessEntry{}, store.ErrNotFound
	}
	var e store.AccessEntry
	return e, wrap(scanAccess(rows, &e))
}

func (s *Store) ListAccess(ctx context.Context, q store.AccessQuery) ([]store.AccessEntry, error) {
	query := "SELECT " + accessCols + " FROM access_log WHERE seq > ?"
	args := []any{q.AfterSeq}
	if q.Actor != "" {
		query += " AND actor = ?"
		args = append(args, q.Actor)
	}
	if q.Dataset != "" {
		query += " AND dataset = ?"
		args = append(args, q.Dataset)
	}
	if q.SubjectKey != "" {
		query += " AND seq IN (SELECT seq FROM access_log_subjects WHERE subject_key = ?)"
		args = append(args, q.SubjectKey)
	}
	if !q.From.IsZero() {
		query += " AND at >= ?"
		args = append(args, us(q.From))
	}
	if !q.To.IsZero() {
		query += " AND at < ?"
		args = append(args, us(q.To))
	}
	query += " ORDER BY seq LIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.AccessEntry
	for rows.Next() {
		var e store.AccessEntry
		if err := scanAccess(rows, &e); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

// ScanAccess streams entries; each call gets a fresh entry, so fn may keep
// it.
func (s *Store) ScanAccess(ctx context.Context, afterSeq, uptoSeq int64, fn func(*store.AccessEntry) error) error {
	rows, err := s.r.QueryContext(ctx, "SELECT "+accessCols+" FROM access_log WHERE seq > ? AND seq <= ? ORDER BY seq", afterSeq, uptoSeq)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.AccessEntry
		if err := scanAccess(rows, &e); err != nil {
			return wrap(err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return wrap(rows.Err())
}

// ScanAccessSubjects reads the subject index through its seq index, which
// holds both columns.
func (s *Store) ScanAccessSubjects(ctx context.Context, afterSeq, uptoSeq int64, fn func(int64, string) error) error {
	rows, err := s.r.QueryContext(ctx, "SELECT seq, subject_key FROM access_log_subjects INDEXED BY access_log_subjects_seq WHERE seq > ? AND seq <= ? ORDER BY seq", afterSeq, uptoSeq)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var key string
		if err := rows.Scan(&seq, &key); err != nil {
			return wrap(err)
		}
		if err := fn(seq, key); err != nil {
			return err
		}
	}
	return wrap(rows.Err())
}

const checkpointCols = "id, seq, hash, signed_at, signed"

func scanCheckpoint(rows *sql.Rows, c *store.AccessCheckpoint) error {
	var at int64
	if err := rows.Scan(&c.ID, &c.Seq, &c.Hash, &at, &c.Signed); err != nil {
		return err
	}
	c.SignedAt = tm(at)
	return nil
}

func (s *Store) checkpoints(ctx context.Context, query string) ([]store.AccessCheckpoint, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+checkpointCols+" FROM access_checkpoints "+query)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.AccessCheckpoint
	for rows.Next() {
		var c store.AccessCheckpoint
		if err := scanCheckpoint(rows, &c); err != nil {
			return nil, wrap(err)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err())
}

func (s *Store) AccessCheckpoints(ctx context.Context) ([]store.AccessCheckpoint, error) {
	return s.checkpoints(ctx, "ORDER BY seq")
}

func (s *Store) LatestAccessCheckpoint(ctx context.Context) (store.AccessCheckpoint, error) {
	cs, err := s.checkpoints(ctx, "ORDER BY seq DESC LIMIT 1")
	if err != nil {
		return store.AccessCheckpoint{}, err
	}
	if len(cs) == 0 {
		return store.AccessCheckpoint{}, store.ErrNotFound
	}
	return cs[0], nil
}
