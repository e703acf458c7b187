// Package backends opens the store a DSN names.
package backends

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/postgres"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

// Open opens the store for dsn: "" for SQLite in dataDir, "sqlite:PATH" for
// a given SQLite file, postgres:// for PostgreSQL. Only with create does it
// make a data folder or a SQLite file that is not there: every other
// command refuses, so run from the wrong folder it cannot start a second,
// empty steward.
func Open(ctx context.Context, dsn, dataDir string, create bool) (store.Store, error) {
	switch {
	case dsn == "":
		path := filepath.Join(dataDir, "steward.db")
		if create {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
		} else if err := exists(path); err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if !create {
			if err := exists(path); err != nil {
				return nil, err
			}
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	}
	return nil, fmt.Errorf("--db: %q is neither a postgres:// DSN nor sqlite:PATH", redact(dsn))
}

// redact keeps a DSN's scheme only, so a password in it never reaches output.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		return dsn[:i+3] + "…"
	}
	if len(dsn) > 16 {
		return dsn[:16] + "…"
	}
	return dsn
}

// pointAt ends the line a command prints when it finds no database.
const pointAt = "point this command at steward's data with --data, STEWARD_DATA or --config (or run steward serve or steward migrate first)"

func exists(path string) error {
	if _, err := os.Stat(path); err != nil {
		abs, _ := filepath.Abs(path)
		return fmt.Errorf("no steward database at %s; %s", abs, pointAt)
	}
	return nil
}

// Describe names the database dsn opens, for the start-up log: the SQLite
// file's absolute path, or PostgreSQL's host and database without any user
// or password.
func Describe(dsn, dataDir string) string {
	switch {
	case dsn == "":
		abs, _ := filepath.Abs(filepath.Join(dataDir, "steward.db"))
		return "sqlite " + abs
	case strings.HasPrefix(dsn, "sqlite:"):
		abs, _ := filepath.Abs(strings.TrimPrefix(dsn, "sqlite:"))
		return "sqlite " + abs
	}
	if u, err := url.Parse(dsn); err == nil {
		return "postgres " + u.Host + u.Path
	}
	return "postgres"
}
