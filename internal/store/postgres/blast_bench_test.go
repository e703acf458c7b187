package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store/storetest"
)

// BenchmarkBlastRadius: see storetest.BlastRadiusBench. The log is made
// by SQL from generate_series in steps of a million entries, indexed,
// then vacuumed and analysed (as autovacuum would soon after such a load).
func BenchmarkBlastRadius(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, testSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	storetest.BlastRadiusBench(b, st, func(n int) error {
		// Indexes are built after the load, as a restore does: maintaining
		// eight of them row by row would take most of an hour at 10M.
		rows, err := st.pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()
			AND tablename IN ('access_log', 'access_log_subjects') AND indexname NOT IN (SELECT conname FROM pg_constraint)`)
		if err != nil {
			return err
		}
		type index struct{ Name, Def string }
		indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
		if err != nil {
			return err
		}
		for _, ix := range indexes {
			if _, err := st.pool.Exec(ctx, "DROP INDEX "+ix.Name); err != nil {
				return err
			}
		}
		if _, err := st.pool.Exec(ctx, "ALTER TABLE access_log_subjects DROP CONSTRAINT access_log_subjects_pkey"); err != nil {
			return err
		}
		span := int64(storetest.BlastDays * 24 * time.Hour / time.Microsecond)
		const step = 1_000_000
		for lo := 0; lo < n; lo += step {
			hi := int64(min(lo+step, n) - 1)
			if _, err := st.pool.Exec(ctx, `INSERT INTO access_log(`+accessCols+`)
				SELECT i + 1, $3::timestamptz + (i * $4) * interval '1 microsecond', format('token %s', lpad((i % 1000)::text, 3, '0')), 'token',
				  format('tk_%s', lpad((i % 1000)::text, 3, '0')), 'analyst', 'product_improvement', 'dataset_' || ((i / 1000) % 4), 'events', 2, 2, '',
				  '192.0.2.0', 'allowed', 'within policy', convert_to('p' || i, 'UTF8'), convert_to('h' || i, 'UTF8')
				FROM generate_series($1::bigint, $2::bigint) AS i`,
				int64(lo), hi, storetest.BlastStart, span/int64(n)); err != nil {
				return err
			}
			if _, err := st.pool.Exec(ctx, `WITH k AS (SELECT i + 1 AS seq, (i * 2654435761) % 1000000 AS k1, i % 1000 AS c FROM generate_series($1::bigint, $2::bigint) AS i)
				INSERT INTO access_log_subjects(subject_key, seq)
				SELECT DISTINCT subject_key, seq FROM (SELECT 's' || lpad(k1::text, 7, '0') AS subject_key, seq FROM k
				  UNION ALL SELECT 's' || lpad(((k1 + c * 7919 + 1) % 1000000)::text, 7, '0'), seq FROM k) x`,
				int64(lo), hi); err != nil {
				return err
			}
		}
		conn, err := st.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SET maintenance_work_mem = '1GB'"); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "ALTER TABLE access_log_subjects ADD PRIMARY KEY (subject_key, seq)"); err != nil {
			return err
		}
		for _, ix := range indexes {
			if _, err := conn.Exec(ctx, ix.Def); err != nil {
				return err
			}
		}
		// VACUUM sets the visibility map that index-only scans need, as
		// autovacuum does after inserts.
		for _, q := range []string{"RESET maintenance_work_mem", "VACUUM ANALYZE access_log", "VACUUM ANALYZE access_log_subjects"} {
			if _, err := conn.Exec(ctx, q); err != nil {
				return err
			}
		}
		// The plan, for docs/breach.md: both branches search their index.
		hits, args := blastHits(storetest.BlastQuery())
		tx, err := st.readTx(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		rows, err = tx.Query(ctx, "EXPLAIN ANALYZE "+hits+"SELECT subject_key FROM (SELECT DISTINCT s.subject_key FROM hit h JOIN access_log_subjects s ON s.seq = h.seq OFFSET 0) k ORDER BY 1 LIMIT 100000", args...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, l := range lines {
			b.Log("plan: " + l)
		}
		return err
	})
}
