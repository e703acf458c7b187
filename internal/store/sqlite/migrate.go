package sqlite

import (
	"context"
	"embed"
	"io/fs"
	"time"

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

// Migrate applies the pending migrations. SQLite has no lock to hold
// across them, but each runs in a BEGIN IMMEDIATE transaction (the DSN's
// _txlock) that first checks schema_migrations, so a second process
// migrating the same file at once waits and then skips what is done.
func (s *Store) Migrate(ctx context.Context) ([]store.Migration, error) {
	files, err := migrations()
	if err != nil {
		return nil, err
	}
	return migrate.Run(ctx, target{s}, files)
}

func (s *Store) MigrationStatus(ctx context.Context) ([]store.Migration, error) {
	files, err := migrations()
	if err != nil {
		return nil, err
	}
	st, err := target{s}.State(ctx)
	if err != nil {
		return nil, err
	}
	return migrate.Status(files, st)
}

type target struct{ s *Store }

const createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`

func (t target) State(ctx context.Context) (migrate.State, error) {
	var st migrate.State
	rows, err := t.s.r.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'events')")
	if err != nil {
		return st, wrap(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return st, wrap(err)
		}
		st.Tracked = st.Tracked || name == "schema_migrations"
		st.Unversioned = st.Unversioned || name == "events"
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, wrap(err)
	}
	st.Unversioned = st.Unversioned && !st.Tracked
	if !st.Tracked {
		return st, nil
	}
	rows, err = t.s.r.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		return st, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m store.Migration
		var at int64
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return st, wrap(err)
		}
		m.Applied, m.AppliedAt = true, tm(at)
		st.Applied = append(st.Applied, m)
	}
	return st, wrap(rows.Err())
}

func (t target) Apply(ctx context.Context, f migrate.File, baseline bool, at time.Time) (bool, error) {
	tx, err := t.s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, wrap(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, createMigrations); err != nil {
		return false, wrap(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", f.Version).Scan(&n); err != nil {
		return false, wrap(err)
	}
	if n > 0 {
		return false, nil
	}
	if !baseline {
		if _, err := tx.ExecContext(ctx, f.SQL); err != nil {
			return false, wrap(err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)", f.Version, f.Name, us(at)); err != nil {
		return false, wrap(err)
	}
	return true, wrap(tx.Commit())
}
