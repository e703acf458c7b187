// Package postgres is steward's PostgreSQL store, for scale and for several
// steward nodes sharing one database. Events are partitioned per dataset
// and UTC day, so retention drops whole partitions.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/steward-privacy/steward/internal/store"
)

// Advisory lock keys: one guards migrations, one orders event commits, one
// serialises access-log appends so the hash chain never forks.
const (
	migrateLock = 7253000
	eventsLock  = 7253001
	accessLock  = 7253002
)

// Store is the PostgreSQL backend.
type Store struct {
	pool  *pgxpool.Pool
	mu    sync.Mutex
	parts map[string]bool // partitions known to exist
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("--db: the PostgreSQL DSN is not valid")
	}
	// steward's statements are short and indexed. With JIT on, a poor row
	// estimate across many partitions (an erasure probing every daily
	// partition) made PostgreSQL spend 45 ms compiling a 5 ms delete. A
	// jit setting in the DSN still wins.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	s := &Store{pool: pool, parts: map[string]bool{}}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) Backend() string { return "postgres" }

func (s *Store) Close() error { s.pool.Close(); return nil }

func (s *Store) Ping(ctx context.Context) error { return wrap(s.pool.Ping(ctx)) }

func wrap(err error) error {
	var pg *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case errors.As(err, &pg) && pg.Code == "23505":
		return fmt.Errorf("%w: %s", store.ErrConflict, pg.ConstraintName)
	}
	return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// partitionName is ≤ 63 bytes whatever the dataset name.
func partitionName(dataset string, day time.Time) string {
	d := dataset
	if len(d) > 40 {
		h := sha256.Sum256([]byte(dataset))
		d = d[:30] + "_" + hex.EncodeToString(h[:4])
	}
	return "events_" + d + "_" + day.Format("20060102")
}

// ensurePartitions creates the day partitions a batch needs. Another node
// may create the same one at the same moment; IF NOT EXISTS and the
// duplicate errors below make that harmless.
func (s *Store) ensurePartitions(ctx context.Context, events []store.Event) error {
	for _, e := range events {
		day := e.ReceivedAt.UTC().Truncate(24 * time.Hour)
		name := partitionName(e.Dataset, day)
		s.mu.Lock()
		known := s.parts[name]
		s.mu.Unlock()
		if known {
			continue
		}
		ds := strings.ReplaceAll(e.Dataset, "'", "''")
		ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM ('%s', '%s') TO ('%s', '%s')",
			pgx.Identifier{name}.Sanitize(), ds, day.Format(time.RFC3339), ds, day.Add(24*time.Hour).Format(time.RFC3339))
		if _, err := s.pool.Exec(ctx, ddl); err != nil {
			var pg *pgconn.PgError
			if !errors.As(err, &pg) || (pg.Code != "42P07" && pg.Code != "23505") {
				return wrap(err)
			}
		}
		if _, err := s.pool.Exec(ctx, "INSERT INTO event_partitions(name, dataset, day_start, day_end) VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING",
			name, e.Dataset, day, day.Add(24*time.Hour)); err != nil {
			return wrap(err)
		}
		s.mu.Lock()
		s.parts[name] = true
		s.mu.Unlock()
	}
	return nil
}

// insertEvents claims the batch's idempotency keys and inserts the events
// whose keys were new (and every event without one), first copy of a key
// within the batch only, in input order. RETURNING names what was stored.
const insertEvents = `WITH t AS (
  SELECT d, r, e, s, j, o FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])
    WITH ORDINALITY AS t(d, r, e, s, j, o)
), first AS (
  SELECT DISTINCT ON (d, e) d, e, r, o FROM t WHERE e <> '' ORDER BY d, e, o
), fresh AS (
  INSERT INTO event_ids(dataset, event_id, received_at) SELECT d, e, r FROM first
  ON CONFLICT DO NOTHING RETURNING dataset, event_id
)
INSERT INTO events(dataset, received_at, event_id, subject_key, data)
SELECT t.d, t.r, t.e, t.s, t.j::json FROM t
WHERE t.e = '' OR t.o IN (SELECT first.o FROM first JOIN fresh ON fresh.dataset = first.d AND fresh.event_id = first.e)
ORDER BY t.o
RETURNING dataset, event_id`

// InsertEvents writes a batch in one transaction and one round trip: the
// advisory lock and the insert are sent as one pipeline, which PostgreSQL
// runs as a single implicit transaction. The transaction-scoped lock makes
// sequence values get assigned and committed in the same order across every
// node, so a reader paging by seq can never pass an event that commits later
// with a smaller seq.
func (s *Store) InsertEvents(ctx context.Context, events []store.Event) ([]bool, error) {
	if err := s.ensurePartitions(ctx, events); err != nil {
		return nil, err
	}
	n := len(events)
	ds, eid, sub, data := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	at := make([]time.Time, n)
	for i, e := range events {
		ds[i], at[i], eid[i], sub[i], data[i] = e.Dataset, e.ReceivedAt, e.EventID, e.SubjectKey, string(e.Data)
	}
	b := &pgx.Batch{}
	b.Queue("SELECT pg_advisory_xact_lock($1)", eventsLock)
	b.Queue(insertEvents, ds, at, eid, sub, data)
	res := s.pool.SendBatch(ctx, b)
	defer res.Close()
	if _, err := res.Exec(); err != nil {
		return nil, wrap(err)
	}
	rows, err := res.Query()
	if err != nil {
		return nil, wrap(err)
	}
	fresh := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return nil, wrap(err)
		}
		fresh[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	// The implicit transaction commits when the pipeline ends: only a clean
	// Close means the batch is durable.
	if err := res.Close(); err != nil {
		return nil, wrap(err)
	}
	stored := make([]bool, n)
	for i, e := range events {
		k := [2]string{e.Dataset, e.EventID}
		switch {
		case e.EventID == "":
			stored[i] = true
		case fresh[k]:
			stored[i] = true
			delete(fresh, k) // a second copy in the same batch is a duplicate
		}
	}
	return stored, nil
}

// ListEvents leaves out the events of subjects an erasure has deactivated
// and not yet purged. A read of one subject checks that subject once. A
// range read takes a page with the plan it always had (an index scan in
// seq order that LIMIT stops early, or whatever the planner prefers for
// the range), and only then marks each row of it whose subject is hidden:
// one probe of erased_subjects' primary key per row of the page, in the
// same statement, so the page and what it hides are one snapshot. Put in
// the WHERE clause, the check changed the plan: as an anti-join the
// planner (which assumes most keys match) read and sorted the whole range,
// and as a probe it was made for every row of the range before the sort
// (2–6 ms instead of 0.7 for a page of 100). The page is read a little
// longer than asked, so that a few hidden rows do not cost a second read;
// when more were hidden, the next rows are read until the page is full or
// the range ends.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if q.SubjectKey != "" {
		page, _, _, err := s.listPage(ctx, q, q.Limit)
		return page, err
	}
	out := make([]store.Event, 0, min(max(q.Limit, 0), 1000))
	want := q.Limit + q.Limit/16 + 4
	for {
		page, read, last, err := s.listPage(ctx, q, want)
		if err != nil {
			return nil, err
		}
		out = append(out, page[:min(len(page), q.Limit-len(out))]...)
		if read < want || len(out) >= q.Limit {
			return out, nil
		}
		// Skipping a subject's many hidden events takes a few reads of
		// growing size, not one per page.
		q.AfterSeq, want = last, min(want*2, 10_000)
	}
}

// listPage reads up to limit events of q's range after q.AfterSeq and
// returns those not hidden, how many it read, and the last seq read.
// (Reads of one subject are already filtered; none comes back marked.)
func (s *Store) listPage(ctx context.Context, q store.EventQuery, limit int) ([]store.Event, int, int64, error) {
	sql := "SELECT seq, dataset, received_at, event_id, subject_key, data FROM events WHERE dataset = $1 AND seq > $2"
	args := []any{q.Dataset, q.AfterSeq}
	if !q.From.IsZero() {
		args = append(args, q.From)
		sql += fmt.Sprintf(" AND received_at >= $%d", len(args))
	}
	if !q.To.IsZero() {
		args = append(args, q.To)
		sql += fmt.Sprintf(" AND received_at < $%d", len(args))
	}
	if q.SubjectKey != "" {
		args = append(args, q.SubjectKey)
		// "<> ''" matches the partial index events_subject, so even a
		// generic plan (no parameter value known) can use it. The check
		// of the one subject is a one-time filter: it leaves the plan be.
		sql += fmt.Sprintf(" AND subject_key = $%d AND subject_key <> ''", len(args)) +
			fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM erased_subjects h WHERE h.subject_key = $%d AND h.purged_at IS NULL)", len(args))
	}
	args = append(args, limit)
	sql = "WITH page AS MATERIALIZED (" + sql + fmt.Sprintf(" ORDER BY seq LIMIT $%d", len(args)) + `)
SELECT seq, dataset, received_at, event_id, subject_key, data::text,
  subject_key <> '' AND EXISTS (SELECT 1 FROM erased_subjects h WHERE h.subject_key = page.subject_key AND h.purged_at IS NULL)
FROM page ORDER BY seq`
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, 0, wrap(err)
	}
	defer rows.Close()
	var out []store.Event
	read, last := 0, q.AfterSeq
	for rows.Next() {
		var e store.Event
		var data string
		var hidden bool
		if err := rows.Scan(&e.Seq, &e.Dataset, &e.ReceivedAt, &e.EventID, &e.SubjectKey, &data, &hidden); err != nil {
			return nil, 0, 0, wrap(err)
		}
		read, last = read+1, e.Seq
		if hidden {
			continue
		}
		e.ReceivedAt, e.Data = e.ReceivedAt.UTC(), []byte(data)
		out = append(out, e)
	}
	return out, read, last, wrap(rows.Err())
}

// DeleteEventsBefore drops the dataset's day partitions wholly before the
// cutoff (counting their rows first) and deletes the rest row by row.
func (s *Store) DeleteEventsBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, wrap(err)
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, "SELECT name FROM event_partitions WHERE dataset = $1 AND day_end <= $2", dataset, cutoff)
	if err != nil {
		return 0, wrap(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, wrap(err)
	}
	var total int64
	for _, name := range names {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&n); err != nil {
			return 0, wrap(err)
		}
		if _, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return 0, wrap(err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM event_partitions WHERE name = $1", name); err != nil {
			return 0, wrap(err)
		}
		total += n
	}
	tag, err := tx.Exec(ctx, "DELETE FROM events WHERE dataset = $1 AND received_at < $2", dataset, cutoff)
	if err != nil {
		return 0, wrap(err)
	}
	total += tag.RowsAffected()
	if _, err := tx.Exec(ctx, "DELETE FROM event_ids WHERE dataset = $1 AND received_at < $2", dataset, cutoff); err != nil {
		return 0, wrap(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, wrap(err)
	}
	s.mu.Lock()
	for _, n := range names {
		delete(s.parts, n)
	}
	s.mu.Unlock()
	return total, nil
}

func (s *Store) DeleteSubjectEvents(ctx context.Context, subjectKey string) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, "WITH d AS (DELETE FROM events WHERE subject_key = $1 AND subject_key <> '' RETURNING dataset) SELECT dataset, count(*) FROM d GROUP BY dataset", subjectKey)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var d string
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, wrap(err)
		}
		out[d] = n
	}
	return out, wrap(rows.Err())
}

func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO tokens(id, name, role, secret_hash, created_at, expires_at) VALUES($1,$2,$3,$4,$5,$6)",
		t.ID, t.Name, t.Role, t.SecretHash, t.CreatedAt, nullTime(t.ExpiresAt))
	return wrap(err)
}

const tokenCols = "id, name, role, secret_hash, created_at, expires_at, last_used_at, revoked_at"

func scanToken(row pgx.Row) (store.Token, error) {
	var t store.Token
	var e, l, r *time.Time
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.SecretHash, &t.CreatedAt, &e, &l, &r)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = t.CreatedAt.UTC(), fromNull(e), fromNull(l), fromNull(r)
	return t, wrap(err)
}

func (s *Store) TokenBySecretHash(ctx context.Context, hash []byte) (store.Token, error) {
	return scanToken(s.pool.QueryRow(ctx, "SELECT "+tokenCols+" FROM tokens WHERE secret_hash = $1", hash))
}

func (s *Store) TouchToken(ctx context.Context, id string, t time.Time) error {
	_, err := s.pool.Exec(ctx, "UPDATE tokens SET last_used_at = $1 WHERE id = $2", t, id)
	return wrap(err)
}

func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+tokenCols+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	var one int
	err := s.pool.QueryRow(ctx, "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING 1", at, id).Scan(&one)
	return wrap(err)
}

func (s *Store) RecordSweep(ctx context.Context, sw store.Sweep) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "INSERT INTO sweeps(dataset, cutoff, deleted, started_at, finished_at, error) VALUES($1,$2,$3,$4,$5,$6) RETURNING id",
		sw.Dataset, sw.Cutoff, sw.Deleted, sw.StartedAt, sw.FinishedAt, sw.Error).Scan(&id)
	return id, wrap(err)
}

func (s *Store) ListSweeps(ctx context.Context, dataset string, limit int) ([]store.Sweep, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, dataset, cutoff, deleted, started_at, finished_at, error FROM sweeps WHERE $1 = '' OR dataset = $1 ORDER BY id DESC LIMIT $2", dataset, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Sweep
	for rows.Next() {
		var sw store.Sweep
		if err := rows.Scan(&sw.ID, &sw.Dataset, &sw.Cutoff, &sw.Deleted, &sw.StartedAt, &sw.FinishedAt, &sw.Error); err != nil {
			return nil, wrap(err)
		}
		sw.Cutoff, sw.StartedAt, sw.FinishedAt = sw.Cutoff.UTC(), sw.StartedAt.UTC(), sw.FinishedAt.UTC()
		out = append(out, sw)
	}
	return out, wrap(rows.Err())
}

func (s *Store) SetSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `WITH ins AS (INSERT INTO settings(key, value) VALUES($1,$2) ON CONFLICT DO NOTHING RETURNING value)
		SELECT value FROM ins UNION ALL SELECT value FROM settings WHERE key = $1 LIMIT 1`, key, value).Scan(&v)
	return v, wrap(err)
}
