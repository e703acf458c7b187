package sqlite

import (
	"context"
	"database/sql"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// blastHits is the CTE of q's entries. A credential is two index ranges
// (credential_id, at) and (actor, at), one per way the monitor names it,
// so neither branch reads another credential's entries.
func blastHits(q store.BlastQuery) (string, []any) {
	base := "SELECT seq, dataset, records, at FROM access_log WHERE decision = ? AND at >= ? AND at < ?"
	args := []any{accesslog.Allowed, us(q.From), us(q.To)}
	ds := ""
	if q.Dataset != "" {
		ds = " AND dataset = ?"
	}
	with := func(a []any, more ...any) []any {
		a = append(a, more...)
		if q.Dataset != "" {
			a = append(a, q.Dataset)
		}
		return a
	}
	method, id, ok := store.SplitCredential(q.Credential)
	if !ok {
		return "WITH hit AS (" + base + ds + ") ", with(args)
	}
	out := with(append([]any(nil), args...), method, id)
	out = append(out, with(append([]any(nil), args...), method, id)...)
	return "WITH hit AS (" + base + " AND auth_method = ? AND credential_id = ?" + ds +
		" UNION ALL " + base + " AND auth_method = ? AND credential_id = '' AND actor = ?" + ds + ") ", out
}

// BlastRadius runs its counts in one read transaction, so they agree
// with each other while entries are appended.
func (s *Store) BlastRadius(ctx context.Context, q store.BlastQuery) (store.BlastResult, error) {
	if _, _, ok := store.SplitCredential(q.Credential); q.Credential != "" && !ok {
		return store.BlastResult{}, nil // names no credential, so reaches nothing
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.BlastResult{}, wrap(err)
	}
	defer tx.Rollback()
	hits, args := blastHits(q)
	var res store.BlastResult
	rows, err := tx.QueryContext(ctx, hits+"SELECT dataset, count(*), coalesce(sum(records), 0), min(at), max(at) FROM hit GROUP BY dataset ORDER BY dataset", args...)
	if err != nil {
		return res, wrap(err)
	}
	for rows.Next() {
		var c store.BlastCount
		var first, last int64
		if err := rows.Scan(&c.Dataset, &c.Entries, &c.Records, &first, &last); err != nil {
			rows.Close()
			return res, wrap(err)
		}
		c.First, c.Last = tm(first), tm(last)
		res.Entries += c.Entries
		res.Records += c.Records
		res.Datasets = append(res.Datasets, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(res.Datasets) == 0 {
		return res, wrap(err)
	}
	const join = "FROM hit h JOIN access_log_subjects s ON s.seq = h.seq "
	rows, err = tx.QueryContext(ctx, hits+"SELECT h.dataset, count(DISTINCT s.subject_key) "+join+"GROUP BY h.dataset", args...)
	if err != nil {
		return res, wrap(err)
	}
	per := map[string]int64{}
	for rows.Next() {
		var ds string
		var n int64
		if err := rows.Scan(&ds, &n); err != nil {
			rows.Close()
			return res, wrap(err)
		}
		per[ds] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, wrap(err)
	}
	for i := range res.Datasets {
		res.Datasets[i].Subjects = per[res.Datasets[i].Dataset]
	}
	if len(res.Datasets) == 1 {
		res.Subjects = res.Datasets[0].Subjects
	} else if err := tx.QueryRowContext(ctx, hits+"SELECT count(DISTINCT s.subject_key) "+join, args...).Scan(&res.Subjects); err != nil {
		return res, wrap(err)
	}
	if res.SubjectKeys, res.KeysTruncated, err = blastKeys(ctx, tx, hits+"SELECT DISTINCT s.subject_key "+join+"ORDER BY 1 LIMIT ?", args, q.KeysCap, res.Subjects); err != nil {
		return res, err
	}
	return res, wrap(tx.Commit())
}

func blastKeys(ctx context.Context, tx *sql.Tx, query string, args []any, limit int, total int64) ([]string, bool, error) {
	if limit <= 0 || total == 0 {
		return nil, total > 0, nil
	}
	rows, err := tx.QueryContext(ctx, query, append(args[:len(args):len(args)], limit)...)
	if err != nil {
		return nil, false, wrap(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, false, wrap(err)
		}
		keys = append(keys, k)
	}
	return keys, int64(len(keys)) < total, wrap(rows.Err())
}

// EventBlastRadius reads the dataset's events over (dataset,
// received_at). Events of a subject whose erasure is pending are counted:
// they were still held when the store leaked.
func (s *Store) EventBlastRadius(ctx context.Context, q store.EventBlastQuery) (store.BlastResult, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.BlastResult{}, wrap(err)
	}
	defer tx.Rollback()
	const where = " FROM events WHERE dataset = ? AND received_at >= ? AND received_at < ?"
	args := []any{q.Dataset, us(q.From), us(q.To)}
	var res store.BlastResult
	c := store.BlastCount{Dataset: q.Dataset}
	var first, last sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT count(*), min(received_at), max(received_at), count(DISTINCT nullif(subject_key, ''))"+where, args...).
		Scan(&c.Records, &first, &last, &c.Subjects); err != nil {
		return res, wrap(err)
	}
	if c.Records == 0 {
		return res, wrap(tx.Commit())
	}
	c.First, c.Last = tm(first.Int64), tm(last.Int64)
	res.Records, res.Subjects, res.Datasets = c.Records, c.Subjects, []store.BlastCount{c}
	if res.SubjectKeys, res.KeysTruncated, err = blastKeys(ctx, tx, "SELECT DISTINCT subject_key"+where+" AND subject_key <> '' ORDER BY 1 LIMIT ?", args, q.KeysCap, res.Subjects); err != nil {
		return res, err
	}
	return res, wrap(tx.Commit())
}
