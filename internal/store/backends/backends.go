// Package backends opens the store a DSN names.
package backends

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/postgres"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

// Open opens the store for dsn: "" for SQLite in dataDir, "sqlite:PATH" for
// a given SQLite file, postgres:// for PostgreSQL.
func Open(ctx context.Context, dsn, dataDir string) (store.Store, error) {
	switch {
	case dsn == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		return sqlite.Open(ctx, filepath.Join(dataDir, "steward.db"))
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
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
