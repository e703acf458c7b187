package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

const accessCols = "seq, at, actor, auth_method, credential_id, role, purpose, dataset, query, records, subjects, subject_keys, client_net, decision, reason, prev_hash, hash"

// AppendAccess appends under a transaction-scoped advisory lock: the head
// read, the sealing and the insert of one node cannot interleave with
// another node's, so every entry links to the one committed before it.
func (s *Store) AppendAccess(ctx context.Context, entries []*store.AccessEntry, seal func(*store.AccessEntry, []byte)) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback(context.Background())
	if err := appendAccess(ctx, tx, entries, seal); err != nil {
		return err
	}
	return wrap(tx.Commit(ctx))
}

// appendAccess appends inside tx, under the access-log lock it takes for
// the rest of tx.
func appendAccess(ctx context.Context, tx pgx.Tx, entries []*store.AccessEntry, seal func(*store.AccessEntry, []byte)) error {
	if len(entries) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", accessLock); err != nil {
		return wrap(err)
	}
	var seq int64
	var prev []byte
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return wrap(err)
	}
	rows := make([][]any, len(entries))
	var subj [][]any
	for i, e := range entries {
		seq++
		e.Seq = seq
		// timestamptz keeps microseconds; hash what is stored.
		e.At = e.At.UTC().Truncate(time.Microsecond)
		seal(e, prev)
		prev = e.Hash
		rows[i] = []any{e.Seq, e.At, e.Actor, e.AuthMethod, e.CredentialID, e.Role, e.Purpose, e.Dataset, e.Query,
			e.Records, e.Subjects, strings.Join(e.SubjectKeys, " "), e.ClientNet, e.Decision, e.Reason, e.PrevHash, e.Hash}
		for _, k := range e.SubjectKeys {
			subj = append(subj, []any{k, e.Seq})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"access_log"}, strings.Split(accessCols, ", "), pgx.CopyFromRows(rows)); err != nil {
		return wrap(err)
	}
	if len(subj) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"access_log_subjects"}, []string{"subject_key", "seq"}, pgx.CopyFromRows(subj)); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func scanAccess(row pgx.Row, e *store.AccessEntry) error {
	var keys string
	if err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.AuthMethod, &e.CredentialID, &e.Role, &e.Purpose, &e.Dataset,
		&e.Query, &e.Records, &e.Subjects, &keys, &e.ClientNet, &e.Decision, &e.Reason, &e.PrevHash, &e.Hash); err != nil {
		return err
	}
	e.At = e.At.UTC()
	e.SubjectKeys = nil
	if keys != "" {
		e.SubjectKeys = strings.Split(keys, " ")
	}
	return nil
}

func (s *Store) AccessHead(ctx context.Context) (store.AccessEntry, error) {
	var e store.AccessEntry
	err := scanAccess(s.pool.QueryRow(ctx, "SELECT "+accessCols+" FROM access_log ORDER BY seq DESC LIMIT 1"), &e)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, store.ErrNotFound
	}
	return e, wrap(err)
}

func (s *Store) ListAccess(ctx context.Context, q store.AccessQuery) ([]store.AccessEntry, error) {
	query := "SELECT " + accessCols + " FROM access_log WHERE seq > $1"
	args := []any{q.AfterSeq}
	add := func(cond string, v any) {
		args = append(args, v)
		query += " AND " + strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args)))
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.Dataset != "" {
		add("dataset = ?", q.Dataset)
	}
	if q.SubjectKey != "" {
		add("seq IN (SELECT seq FROM access_log_subjects WHERE subject_key = ?)", q.SubjectKey)
	}
	if !q.From.IsZero() {
		add("at >= ?", q.From)
	}
	if !q.To.IsZero() {
		add("at < ?", q.To)
	}
	args = append(args, q.Limit)
	query += " ORDER BY seq LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, query, args...)
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

// ScanAccess streams entries (pgx reads rows as they arrive); each call gets
// a fresh entry, so fn may keep it.
func (s *Store) ScanAccess(ctx context.Context, afterSeq, uptoSeq int64, fn func(*store.AccessEntry) error) error {
	rows, err := s.pool.Query(ctx, "SELECT "+accessCols+" FROM access_log WHERE seq > $1 AND seq <= $2 ORDER BY seq", afterSeq, uptoSeq)
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

// ScanAccessSubjects reads the subject index through its (seq,
// subject_key) index.
func (s *Store) ScanAccessSubjects(ctx context.Context, afterSeq, uptoSeq int64, fn func(int64, string) error) error {
	rows, err := s.pool.Query(ctx, "SELECT seq, subject_key FROM access_log_subjects WHERE seq > $1 AND seq <= $2 ORDER BY seq", afterSeq, uptoSeq)
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

func (s *Store) checkpoints(ctx context.Context, query string) ([]store.AccessCheckpoint, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+checkpointCols+" FROM access_checkpoints "+query)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.AccessCheckpoint
	for rows.Next() {
		var c store.AccessCheckpoint
		if err := rows.Scan(&c.ID, &c.Seq, &c.Hash, &c.SignedAt, &c.Signed); err != nil {
			return nil, wrap(err)
		}
		c.SignedAt = c.SignedAt.UTC()
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
