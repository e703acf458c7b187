package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestFloorsStoreEveryAcknowledgedBody: a floor is only a floor if what it
// acknowledges is really stored, each body once.
func TestFloorsStoreEveryAcknowledgedBody(t *testing.T) {
	for _, kind := range floorKinds {
		t.Run(kind, func(t *testing.T) {
			where := t.TempDir()
			if strings.HasPrefix(kind, "postgres") {
				where = scratchSchema(t)
			}
			commit, err := floorCommit(kind, where)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(newCommitter(commit))
			defer srv.Close()

			var want []string
			for i := range 200 {
				want = append(want, fmt.Sprintf(`{"n":%d}`, i))
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(want))
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < len(want); i += 8 {
						resp, err := http.Post(srv.URL, "application/json", strings.NewReader(want[i]))
						if err != nil {
							errs <- err
							continue
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							errs <- fmt.Errorf("body %d: status %d", i, resp.StatusCode)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}

			got := storedBodies(t, kind, where)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("stored %d bodies, want the %d acknowledged ones", len(got), len(want))
			}
		})
	}
}

func TestFloorUnknownKind(t *testing.T) {
	if _, err := floorCommit("tape", t.TempDir()); err == nil || !strings.Contains(err.Error(), "unknown floor") {
		t.Fatalf("err = %v", err)
	}
}

func storedBodies(t *testing.T, kind, where string) []string {
	t.Helper()
	var out []string
	switch kind {
	case "fsync":
		f, err := os.Open(filepath.Join(where, "floor.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
	case "sqlite", "sqlite+keys":
		db, err := sql.Open("sqlite", filepath.Join(where, kind+".db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query("SELECT body FROM bodies")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	default:
		table := "floor_bodies"
		if kind == "postgres+keys" {
			table = "floor_keyed"
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT body FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// scratchSchema returns a DSN for a fresh schema, dropped when the test
// ends; PostgreSQL floors are skipped without STEWARD_TEST_POSTGRES.
func scratchSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("STEWARD_TEST_POSTGRES")
	if base == "" {
		t.Skip("STEWARD_TEST_POSTGRES not set")
	}
	dsn, drop, err := pgSchema(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dsn
}
