package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store/storetest"
)

// BenchmarkBlastRadius: see storetest.BlastRadiusBench. The log is made
// by SQL in steps of a million entries, with a large page cache and
// without fsync for the load only, and indexed after it.
func BenchmarkBlastRadius(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	storetest.BlastRadiusBench(b, st, func(n int) error {
		for _, p := range []string{"PRAGMA cache_size(-2000000)", "PRAGMA synchronous(OFF)"} {
			if _, err := st.w.ExecContext(ctx, p); err != nil {
				return err
			}
		}
		defer st.w.ExecContext(ctx, "PRAGMA cache_size(-2048)")
		defer st.w.ExecContext(ctx, "PRAGMA synchronous(FULL)")
		// Indexes are built after the load, as a restore does: maintaining
		// eight of them row by row takes far longer at 10M.
		rows, err := st.w.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
			AND tbl_name IN ('access_log', 'access_log_subjects')`)
		if err != nil {
			return err
		}
		var indexes [][2]string
		for rows.Next() {
			var ix [2]string
			if err := rows.Scan(&ix[0], &ix[1]); err != nil {
				rows.Close()
				return err
			}
			indexes = append(indexes, ix)
		}
		rows.Close()
		for _, ix := range indexes {
			if _, err := st.w.ExecContext(ctx, "DROP INDEX "+ix[0]); err != nil {
				return err
			}
		}
		span := int64(storetest.BlastDays * 24 * time.Hour / time.Microsecond)
		const step = 1_000_000
		for lo := 0; lo < n; lo += step {
			hi := min(lo+step, n) - 1
			gen := "WITH RECURSIVE g(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
			if _, err := st.w.ExecContext(ctx, gen+`INSERT INTO access_log(`+accessCols+`)
				SELECT i + 1, ? + i * ?, printf('token %03d', i % 1000), 'token', printf('tk_%03d', i % 1000), 'analyst',
				  'product_improvement', 'dataset_' || ((i / 1000) % 4), 'events', 2, 2, '', '192.0.2.0', 'allowed', 'within policy',
				  CAST(printf('p%010d', i) AS BLOB), CAST(printf('h%010d', i) AS BLOB) FROM g`,
				lo, hi, us(storetest.BlastStart), span/int64(n)); err != nil {
				return err
			}
			if _, err := st.w.ExecContext(ctx, gen+`, k(seq, k1, c) AS (SELECT i + 1, (i * 2654435761) % 1000000, i % 1000 FROM g)
				INSERT OR IGNORE INTO access_log_subjects(subject_key, seq)
				SELECT printf('s%07d', k1), seq FROM k UNION ALL SELECT printf('s%07d', (k1 + c * 7919 + 1) % 1000000), seq FROM k`,
				lo, hi); err != nil {
				return err
			}
		}
		for _, ix := range indexes {
			if _, err := st.w.ExecContext(ctx, ix[1]); err != nil {
				return err
			}
		}
		if _, err := st.w.ExecContext(ctx, "ANALYZE"); err != nil {
			return err
		}
		// The plan, for docs/breach.md: both branches search their index.
		hits, args := blastHits(storetest.BlastQuery())
		rows, err = st.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+hits+"SELECT count(DISTINCT s.subject_key) FROM hit h JOIN access_log_subjects s ON s.seq = h.seq", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			b.Log("plan: " + detail)
		}
		return rows.Err()
	})
}
