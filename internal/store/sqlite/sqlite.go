// Package sqlite is steward's embedded store: one SQLite file in the data
// directory, cgo-free, in WAL mode with full fsync so an acknowledged event
// survives a crash.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/steward-privacy/steward/internal/store"
)

// Store is the SQLite backend. Writes go through one connection (SQLite has
// one writer anyway; this avoids busy retries), reads through a pool.
type Store struct {
	w, r *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string) (*Store, error) {
	// synchronous=FULL fsyncs the WAL on every commit: an acknowledged event
	// survives power loss. Checkpointing every 8000 pages instead of 1000
	// cuts write system calls (about +20 % in BenchmarkCollectBatch100)
	// without touching durability.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=wal_autocheckpoint(8000)&_txlock=immediate"
	// The page cache differs by role. Every commit scans the writer's whole
	// page-cache hash table (SQLite truncates the cache past the database's
	// end): with 16 MiB that was 8 % of a commit's CPU; with SQLite's
	// default 2 MiB it does not show in the profile. On a store of 1.5M
	// events, 32-event commits cost 107 CPU µs per event at 2 MiB and 119 at
	// 16 MiB; only 20 000-event bulk inserts, which collection never makes,
	// gain from the larger cache (13 %). Readers keep 16 MiB; 64 MiB gained
	// nothing measurable and pushed peak RSS to 193 MB.
	w, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-2048)")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-16384)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	s := &Store{w: w, r: r}
	if err := w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: open %s: %v", store.ErrUnavailable, path, err)
	}
	return s, nil
}

func (s *Store) Backend() string { return "sqlite" }

func (s *Store) Close() error { return errors.Join(s.r.Close(), s.w.Close()) }

func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func tm(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case strings.Contains(err.Error(), "UNIQUE constraint"):
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
}

// chunk bounds the rows of one multi-row INSERT (SQLite allows 32766
// parameters; 200 rows × 5 keeps statements small and plans cached).
const chunk = 200

// InsertEvents stores a batch in one transaction with multi-row inserts. An
// event whose client id is already known is skipped; the event_ids table
// remembers ids for as long as their events are retained.
//
// Both inserts say OR FAIL: a failing statement then keeps its earlier rows
// instead of undoing them, which spares SQLite a statement journal (a copy
// of every page the statement touches, spilled to a temporary file: 15 %
// of a commit's CPU in BenchmarkInsertEvents32). Nothing partial survives,
// because any error rolls the whole transaction back.
func (s *Store) InsertEvents(ctx context.Context, events []store.Event) ([]bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap(err)
	}
	defer tx.Rollback()
	stored := make([]bool, len(events))
	// Claim idempotency keys first: RETURNING names the ones that were new.
	fresh := map[[2]string]bool{}
	var keyed []int
	for i, e := range events {
		if e.EventID == "" {
			stored[i] = true
		} else {
			keyed = append(keyed, i)
		}
	}
	for start := 0; start < len(keyed); start += chunk {
		part := keyed[start:min(start+chunk, len(keyed))]
		args := make([]any, 0, 3*len(part))
		for _, i := range part {
			args = append(args, events[i].Dataset, events[i].EventID, us(events[i].ReceivedAt))
		}
		rows, err := tx.QueryContext(ctx, "INSERT OR FAIL INTO event_ids(dataset, event_id, received_at) VALUES "+
			placeholders(len(part), 3)+" ON CONFLICT DO NOTHING RETURNING dataset, event_id", args...)
		if err != nil {
			return nil, wrap(err)
		}
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
	}
	for _, i := range keyed {
		k := [2]string{events[i].Dataset, events[i].EventID}
		if fresh[k] {
			stored[i] = true
			delete(fresh, k) // a second copy in the same batch is a duplicate
		}
	}
	var rows []int
	for i, ok := range stored {
		if ok {
			rows = append(rows, i)
		}
	}
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		args := make([]any, 0, 5*len(part))
		for _, i := range part {
			e := events[i]
			args = append(args, e.Dataset, us(e.ReceivedAt), e.EventID, e.SubjectKey, string(e.Data))
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR FAIL INTO events(dataset, received_at, event_id, subject_key, data) VALUES "+
			placeholders(len(part), 5), args...); err != nil {
			return nil, wrap(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap(err)
	}
	return stored, nil
}

func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// hideDeactivated leaves out the events of subjects an erasure has
// deactivated and not yet purged. It is part of the one query every read
// path goes through, so no path can forget it. SQLite runs it as a probe
// of erased_subjects' primary key per row read (the seq-order scan that
// LIMIT stops early stays as it was); events without a subject are not
// probed.
const hideDeactivated = " AND (events.subject_key = '' OR NOT EXISTS (SELECT 1 FROM erased_subjects h WHERE h.subject_key = events.subject_key AND h.purged_at = 0))"

func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	query := "SELECT seq, dataset, received_at, event_id, subject_key, data FROM events WHERE dataset = ? AND seq > ?"
	args := []any{q.Dataset, q.AfterSeq}
	if !q.From.IsZero() {
		query += " AND received_at >= ?"
		args = append(args, us(q.From))
	}
	if !q.To.IsZero() {
		query += " AND received_at < ?"
		args = append(args, us(q.To))
	}
	if q.SubjectKey != "" {
		// The repeated "<> ''" lets SQLite use the partial index
		// events_subject: it cannot prove that a bound value is not ''.
		query += " AND subject_key = ? AND subject_key <> ''"
		args = append(args, q.SubjectKey)
	}
	query += hideDeactivated + " ORDER BY seq LIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var at int64
		var data string
		if err := rows.Scan(&e.Seq, &e.Dataset, &at, &e.EventID, &e.SubjectKey, &data); err != nil {
			return nil, wrap(err)
		}
		e.ReceivedAt, e.Data = tm(at), []byte(data)
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

func (s *Store) DeleteEventsBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrap(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM events WHERE dataset = ? AND received_at < ?", dataset, us(cutoff))
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, "DELETE FROM event_ids WHERE dataset = ? AND received_at < ?", dataset, us(cutoff)); err != nil {
		return 0, wrap(err)
	}
	return n, wrap(tx.Commit())
}

func (s *Store) DeleteSubjectEvents(ctx context.Context, subjectKey string) (map[string]int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "DELETE FROM events WHERE subject_key = ? AND subject_key <> '' RETURNING dataset", subjectKey)
	if err != nil {
		return nil, wrap(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, wrap(err)
		}
		out[d]++
	}
	rows.Close()
	return out, wrap(tx.Commit())
}

func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO tokens(id, name, role, secret_hash, created_at, expires_at) VALUES(?,?,?,?,?,?)",
		t.ID, t.Name, t.Role, t.SecretHash, us(t.CreatedAt), us(t.ExpiresAt))
	return wrap(err)
}

const tokenCols = "id, name, role, secret_hash, created_at, expires_at, last_used_at, revoked_at"

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var c, e, l, r int64
	err := sc.Scan(&t.ID, &t.Name, &t.Role, &t.SecretHash, &c, &e, &l, &r)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = tm(c), tm(e), tm(l), tm(r)
	return t, wrap(err)
}

func (s *Store) TokenBySecretHash(ctx context.Context, hash []byte) (store.Token, error) {
	return scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenCols+" FROM tokens WHERE secret_hash = ?", hash))
}

func (s *Store) TouchToken(ctx context.Context, id string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, "UPDATE tokens SET last_used_at = ? WHERE id = ?", us(t), id)
	return wrap(err)
}

func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+tokenCols+" FROM tokens ORDER BY created_at, id")
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
	res, err := s.w.ExecContext(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0", us(at), id)
	if err != nil {
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := s.r.QueryRowContext(ctx, "SELECT 1 FROM tokens WHERE id = ?", id).Scan(&one); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func (s *Store) RecordSweep(ctx context.Context, sw store.Sweep) (int64, error) {
	res, err := s.w.ExecContext(ctx, "INSERT INTO sweeps(dataset, cutoff, deleted, started_at, finished_at, error) VALUES(?,?,?,?,?,?)",
		sw.Dataset, us(sw.Cutoff), sw.Deleted, us(sw.StartedAt), us(sw.FinishedAt), sw.Error)
	if err != nil {
		return 0, wrap(err)
	}
	return res.LastInsertId()
}

func (s *Store) ListSweeps(ctx context.Context, dataset string, limit int) ([]store.Sweep, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, dataset, cutoff, deleted, started_at, finished_at, error FROM sweeps WHERE ? = '' OR dataset = ? ORDER BY id DESC LIMIT ?", dataset, dataset, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Sweep
	for rows.Next() {
		var sw store.Sweep
		var c, st, f int64
		if err := rows.Scan(&sw.ID, &sw.Dataset, &c, &sw.Deleted, &st, &f, &sw.Error); err != nil {
			return nil, wrap(err)
		}
		sw.Cutoff, sw.StartedAt, sw.FinishedAt = tm(c), tm(st), tm(f)
		out = append(out, sw)
	}
	return out, wrap(rows.Err())
}

func (s *Store) SetSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	if _, err := s.w.ExecContext(ctx, "INSERT INTO settings(key, value) VALUES(?,?) ON CONFLICT DO NOTHING", key, value); err != nil {
		return "", wrap(err)
	}
	var v string
	err := s.w.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	return v, wrap(err)
}
