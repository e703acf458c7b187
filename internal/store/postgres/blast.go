package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// blastHits is the CTE of q's entries. A credential is two index ranges
// (credential_id, at) and (actor, at), one per way the monitor names it,
// so neither branch reads another credential's entries.
func blastHits(q store.BlastQuery) (string, []any) {
	args := []any{accesslog.Allowed, q.From.UTC(), q.To.UTC()}
	base := "SELECT seq, dataset, records, at FROM access_log WHERE decision = $1 AND at >= $2 AND at < $3"
	if q.Dataset != "" {
		args = append(args, q.Dataset)
		base += " AND dataset = $4"
	}
	method, id, ok := store.SplitCredential(q.Credential)
	if !ok {
		return "WITH hit AS (" + base + ") ", args
	}
	n := len(args)
	args = append(args, method, id)
	return "WITH hit AS (" + base + fmt.Sprintf(" AND auth_method = $%d AND credential_id = $%d", n+1, n+2) +
		" UNION ALL " + base + fmt.Sprintf(" AND auth_method = $%d AND credential_id = '' AND actor = $%d", n+1, n+2) + ") ", args
}

// readTx is a read-only snapshot, so a blast radius's counts agree with
// each other while entries are appended.
func (s *Store) readTx(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, wrap(err)
	}
	// Index ranges of a few thousand rows: starting parallel workers costs
	// more than they save, the more so on a busy machine.
	if _, err := tx.Exec(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
		tx.Rollback(context.Background())
		return nil, wrap(err)
	}
	return tx, nil
}

func (s *Store) BlastRadius(ctx context.Context, q store.BlastQuery) (store.BlastResult, error) {
	if _, _, ok := store.SplitCredential(q.Credential); q.Credential != "" && !ok {
		return store.BlastResult{}, nil // names no credential, so reaches nothing
	}
	tx, err := s.readTx(ctx)
	if err != nil {
		return store.BlastResult{}, err
	}
	defer tx.Rollback(context.Background())
	hits, args := blastHits(q)
	var res store.BlastResult
	rows, err := tx.Query(ctx, hits+"SELECT dataset, count(*), coalesce(sum(records), 0), min(at), max(at) FROM hit GROUP BY dataset ORDER BY dataset", args...)
	if err != nil {
		return res, wrap(err)
	}
	for rows.Next() {
		var c store.BlastCount
		if err := rows.Scan(&c.Dataset, &c.Entries, &c.Records, &c.First, &c.Last); err != nil {
			rows.Close()
			return res, wrap(err)
		}
		c.First, c.Last = c.First.UTC(), c.Last.UTC()
		res.Entries += c.Entries
		res.Records += c.Records
		res.Datasets = append(res.Datasets, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(res.Datasets) == 0 {
		return res, wrap(err)
	}
	const join = "FROM hit h JOIN access_log_subjects s ON s.seq = h.seq "
	// Per dataset and in all (the row whose dataset is NULL) in one pass.
	rows, err = tx.Query(ctx, hits+"SELECT h.dataset, count(DISTINCT s.subject_key) "+join+"GROUP BY GROUPING SETS ((h.dataset), ())", args...)
	if err != nil {
		return res, wrap(err)
	}
	per := map[string]int64{}
	for rows.Next() {
		var ds *string
		var n int64
		if err := rows.Scan(&ds, &n); err != nil {
			rows.Close()
			return res, wrap(err)
		}
		if ds == nil {
			res.Subjects = n
		} else {
			per[*ds] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, wrap(err)
	}
	for i := range res.Datasets {
		res.Datasets[i].Subjects = per[res.Datasets[i].Dataset]
	}
	// OFFSET 0 keeps the keys' LIMIT from turning the plan around into a
	// walk of the whole subject index in key order, probing each key.
	if res.SubjectKeys, res.KeysTruncated, err = blastKeys(ctx, tx, hits+"SELECT subject_key FROM (SELECT DISTINCT s.subject_key "+join+"OFFSET 0) k ORDER BY 1 LIMIT $%d", args, q.KeysCap, res.Subjects); err != nil {
		return res, err
	}
	return res, nil
}

// blastKeys runs query (whose LIMIT placeholder is a %d for the next
// argument number) for up to limit keys.
func blastKeys(ctx context.Context, tx pgx.Tx, query string, args []any, limit int, total int64) ([]string, bool, error) {
	if limit <= 0 || total == 0 {
		return nil, total > 0, nil
	}
	rows, err := tx.Query(ctx, fmt.Sprintf(query, len(args)+1), append(args[:len(args):len(args)], limit)...)
	if err != nil {
		return nil, false, wrap(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, false, wrap(err)
	}
	return keys, int64(len(keys)) < total, nil
}

// EventBlastRadius reads the dataset's partitions for the window. Events
// of a subject whose erasure is pending are counted: they were still held
// when the store leaked.
func (s *Store) EventBlastRadius(ctx context.Context, q store.EventBlastQuery) (store.BlastResult, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return store.BlastResult{}, err
	}
	defer tx.Rollback(context.Background())
	const where = " FROM events WHERE dataset = $1 AND received_at >= $2 AND received_at < $3"
	args := []any{q.Dataset, q.From.UTC(), q.To.UTC()}
	var res store.BlastResult
	c := store.BlastCount{Dataset: q.Dataset}
	var first, last *time.Time
	if err := tx.QueryRow(ctx, "SELECT count(*), min(received_at), max(received_at), count(DISTINCT nullif(subject_key, ''))"+where, args...).
		Scan(&c.Records, &first, &last, &c.Subjects); err != nil {
		return res, wrap(err)
	}
	if c.Records == 0 {
		return res, nil
	}
	c.First, c.Last = first.UTC(), last.UTC()
	res.Records, res.Subjects, res.Datasets = c.Records, c.Subjects, []store.BlastCount{c}
	if res.SubjectKeys, res.KeysTruncated, err = blastKeys(ctx, tx, "SELECT subject_key FROM (SELECT DISTINCT subject_key"+where+" AND subject_key <> '' OFFSET 0) k ORDER BY 1 LIMIT $%d", args, q.KeysCap, res.Subjects); err != nil {
		return res, err
	}
	return res, nil
}
