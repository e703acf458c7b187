package accesslog_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// TestVerifyAcrossSpans checks a log longer than several read spans, then
// breaks it at span edges: each break is named, whichever reader read it.
func TestVerifyAcrossSpans(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := backends.Open(ctx, "", dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	batch := make([]*store.AccessEntry, n)
	for i := range batch {
		batch[i] = entry(i)
	}
	if err := st.AppendAccess(ctx, batch, func(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) }); err != nil {
		t.Fatal(err)
	}
	res, err := accesslog.Verify(ctx, st, accesslog.Options{})
	if err != nil || res.Break != nil || res.Checked != n || res.HeadSeq != n {
		t.Fatalf("intact log: %+v %v", res, err)
	}
	st.Close()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"DROP TRIGGER access_log_no_update", "DROP TRIGGER access_log_no_delete"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	verify := func() *accesslog.Break {
		st, err := backends.Open(ctx, "", dir, true)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		res, err := accesslog.Verify(ctx, st, accesslog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Break
	}
	for _, c := range []struct {
		sql  string
		seq  int64
		want string
	}{
		{"UPDATE access_log SET records = 7 WHERE seq = 16384", 16384, "edited"},
		{"DELETE FROM access_log WHERE seq = 8193", 8193, "missing"},
	} {
		if _, err := db.Exec(c.sql); err != nil {
			t.Fatal(err)
		}
		if br := verify(); br == nil || br.Seq != c.seq || !strings.Contains(br.Reason, c.want) {
			t.Fatalf("after %q: %+v, want a break at %d (%s)", c.sql, br, c.seq, c.want)
		}
	}
}
