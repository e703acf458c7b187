package postgres

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/migrate"
)

//go:embed migrations
var migrationFS embed.FS

func migrations() ([]migrate.File, error) {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	return migrate.Load(sub)
}

// Migrate applies the pending migrations under an advisory lock held for
// the whole run, so nodes starting together do not race each other's DDL:
// the second waits, then finds nothing pending.
func (s *Store) Migrate(ctx context.Context) ([]store.Migration, error) {
	files, err := migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return nil, wrap(err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrateLock)
	return migrate.Run(ctx, target{conn}, files)
}

func (s *Store) MigrationStatus(ctx context.Context) ([]store.Migration, error) {
	files, err := migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	defer conn.Release()
	st, err := target{conn}.State(ctx)
	if err != nil {
		return nil, err
	}
	return migrate.Status(files, st)
}

// target runs on the one connection that holds the advisory lock.
type target struct{ conn *pgxpool.Conn }

const createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL
)`

func (t target) State(ctx context.Context) (migrate.State, error) {
	var st migrate.State
	// to_regclass resolves through search_path, as steward's own
	// statements do, so a schema per deployment (or per test) works.
	if err := t.conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL, to_regclass('events') IS NOT NULL").
		Scan(&st.Tracked, &st.Unversioned); err != nil {
		return st, wrap(err)
	}
	st.Unversioned = st.Unversioned && !st.Tracked
	if !st.Tracked {
		return st, nil
	}
	rows, err := t.conn.Query(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		return st, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		m := store.Migration{Applied: true}
		if err := rows.Scan(&m.Version, &m.Name, &m.AppliedAt); err != nil {
			return st, wrap(err)
		}
		m.AppliedAt = m.AppliedAt.UTC()
		st.Applied = append(st.Applied, m)
	}
	return st, wrap(rows.Err())
}

func (t target) Apply(ctx context.Context, f migrate.File, baseline bool, at time.Time) (bool, error) {
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return false, wrap(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, createMigrations); err != nil {
		return false, wrap(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", f.Version).Scan(&n); err != nil {
		return false, wrap(err)
	}
	if n > 0 {
		return false, nil
	}
	// Without arguments pgx sends the file over the simple protocol, which
	// runs a script of several statements.
	if !baseline {
		if _, err := tx.Exec(ctx, f.SQL); err != nil {
			return false, wrap(err)
		}
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES($1, $2, $3)", f.Version, f.Name, at); err != nil {
		return false, wrap(err)
	}
	return true, wrap(tx.Commit(ctx))
}
