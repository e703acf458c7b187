// Package migrate is the part of versioned schema migrations both store
// backends share: reading a folder of NNNN_name.sql files, checking that
// its numbers run 1, 2, 3… without gaps or duplicates, comparing it with
// what a database's schema_migrations table records, and applying what is
// pending in order. The backends supply the SQL side through Target.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// File is one migration file.
type File struct {
	Version int
	Name    string // without the number and ".sql"
	SQL     string
}

// ID is the file name without ".sql".
func (f File) ID() string { return fmt.Sprintf("%04d_%s", f.Version, f.Name) }

var fileName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$`)

// Load reads every migration in the root of fsys, ordered by number. Any
// other file, a gap or a repeated number is an error: a misnamed file
// would otherwise be skipped silently, and a gap means one was lost.
func Load(fsys fs.FS) ([]File, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var files []File
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migrations: %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		files = append(files, File{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(files, func(a, b File) int { return a.Version - b.Version })
	for i, f := range files {
		switch {
		case i > 0 && f.Version == files[i-1].Version:
			return nil, fmt.Errorf("migrations: %s and %s share number %04d", files[i-1].ID(), f.ID(), f.Version)
		case f.Version != i+1:
			return nil, fmt.Errorf("migrations: %s should be number %04d (numbers start at 0001 and have no gaps)", f.ID(), i+1)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("migrations: none found")
	}
	return files, nil
}

// State is what a database says about its own schema.
type State struct {
	// Tracked: the schema_migrations table exists.
	Tracked bool
	// Unversioned: no schema_migrations table, but steward's tables exist:
	// a database made by a steward from before versioned migrations, whose
	// schema is exactly migration 0001.
	Unversioned bool
	// Applied lists schema_migrations' rows, in any order.
	Applied []store.Migration
}

// Target is one database, as the runner needs it.
type Target interface {
	// State reads the database's State.
	State(ctx context.Context) (State, error)
	// Apply creates schema_migrations if it is missing and, in one
	// transaction with that, runs f.SQL (unless baseline) and records f as
	// applied at at. When f is already recorded, because another process
	// got there first, it changes nothing and returns false.
	Apply(ctx context.Context, f File, baseline bool, at time.Time) (bool, error)
}

// tooNew is store.ErrSchemaTooNew with the numbers an operator needs.
type tooNew struct{ db, known int }

func (e tooNew) Error() string {
	return fmt.Sprintf("database schema is at version %d but this steward knows only up to %d; upgrade steward (or point it at the right database)", e.db, e.known)
}

func (e tooNew) Unwrap() error { return store.ErrSchemaTooNew }

// Status lists every known migration as the database records it. It
// refuses a database that is newer than files, that records a migration
// under another name, or that skipped one: each means this steward and
// this database do not belong together.
func Status(files []File, st State) ([]store.Migration, error) {
	known := files[len(files)-1].Version
	rec := map[int]store.Migration{}
	top := 0
	for _, m := range st.Applied {
		rec[m.Version] = m
		top = max(top, m.Version)
	}
	if top > known {
		return nil, tooNew{top, known}
	}
	out := make([]store.Migration, len(files))
	for i, f := range files {
		m, ok := rec[f.Version]
		switch {
		case ok && m.Name != f.Name:
			return nil, fmt.Errorf("database records migration %04d as %q but this steward's is %s; point steward at the right database", f.Version, m.Name, f.ID())
		case !ok && f.Version < top:
			return nil, fmt.Errorf("database records migration %04d but not %s; it was not migrated by steward", top, f.ID())
		case ok:
			out[i] = store.Migration{Version: f.Version, Name: f.Name, Applied: true, AppliedAt: m.AppliedAt.UTC()}
		case !st.Tracked && st.Unversioned && f.Version == 1:
			out[i] = store.Migration{Version: f.Version, Name: f.Name, Applied: true, Baseline: true}
		default:
			out[i] = store.Migration{Version: f.Version, Name: f.Name}
		}
	}
	return out, nil
}

// Run applies every pending migration in order and returns those this
// call applied. The caller holds whatever lock keeps other processes'
// migrations out for the duration; Apply's own check makes a lost race
// harmless where there is no such lock.
func Run(ctx context.Context, t Target, files []File) ([]store.Migration, error) {
	st, err := t.State(ctx)
	if err != nil {
		return nil, err
	}
	status, err := Status(files, st)
	if err != nil {
		return nil, err
	}
	var done []store.Migration
	for i, m := range status {
		if m.Applied && !m.Baseline {
			continue
		}
		// Microseconds: what both backends' columns keep.
		at := time.Now().UTC().Truncate(time.Microsecond)
		ok, err := t.Apply(ctx, files[i], m.Baseline, at)
		if err != nil {
			return done, fmt.Errorf("migration %s: %w", m.ID(), err)
		}
		if ok {
			m.Applied, m.AppliedAt = true, at
			done = append(done, m)
		}
	}
	return done, nil
}
