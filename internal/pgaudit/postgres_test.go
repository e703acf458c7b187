package pgaudit_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// waitEntries runs the tailer until the access log holds n entries: the
// logging collector writes the log a moment after the statement.
func (fx *fixture) waitEntries(t *testing.T, dir string, n int) []store.AccessEntry {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := fx.tailer(dir).CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		es := fx.entries(t)
		if len(es) >= n || time.Now().After(deadline) {
			return es
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealPostgreSQLAuditLog runs the whole way on a PostgreSQL of its own
// with pgaudit: reads by a mapped and an unmapped role become entries in
// the chain, the monitor opens an incident for the unmapped one, a
// restarted tailer adds nothing, and a bad line in the log is counted and
// passed over.
func TestRealPostgreSQLAuditLog(t *testing.T) {
	underBackends(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		pg := startCluster(t) // one each: a new store reads the log from its start
		admin := pg.connect(t, "postgres")
		// Setting up is the superuser's and not audited.
		exec1(t, admin, "SET pgaudit.log = 'none'")
		exec1(t, admin, "DROP TABLE IF EXISTS public.events, public.other; DROP ROLE IF EXISTS app_reader; DROP ROLE IF EXISTS bob")
		exec1(t, admin, "CREATE TABLE public.events (id int, email text); CREATE TABLE public.other (id int)")
		exec1(t, admin, "INSERT INTO public.events VALUES (1, 'someone@example.org'); INSERT INTO public.other VALUES (1)")
		exec1(t, admin, "CREATE ROLE app_reader LOGIN; CREATE ROLE bob LOGIN; GRANT SELECT ON public.events, public.other TO app_reader, bob")
		before := len(fx.entries(t))

		app := pg.connect(t, "app_reader")
		exec1(t, app, "SELECT * FROM public.events WHERE email = 'someone@example.org'")
		exec1(t, app, "SELECT id FROM events")
		exec1(t, app, "SELECT * FROM other") // no personal data: counted only
		bob := pg.connect(t, "bob")
		exec1(t, bob, "SELECT e.email FROM events e JOIN events f ON e.id = f.id") // one read, though named twice

		es := fx.waitEntries(t, pg.LogDir, before+3)[before:]
		if len(es) != 3 {
			t.Fatalf("%d entries, want 3: %+v", len(es), es)
		}
		var actors []string
		for _, e := range es {
			actors = append(actors, e.Actor+"/"+e.Role)
			if e.Dataset != "interaction_data" || e.Query != "READ SELECT public.events" || e.ClientNet != "127.0.0.0" ||
				e.AuthMethod != "pgaudit" || strings.Contains(e.Query+e.Reason, "someone@") {
				t.Fatalf("entry: %+v", e)
			}
		}
		sort.Strings(actors)
		if strings.Join(actors, " ") != "db:app_reader/analyst db:app_reader/analyst db:bob/" {
			t.Fatalf("actors: %v", actors)
		}
		st := fx.stats(t, fx.tailer(pg.LogDir))
		if st.Unmapped < 1 || st.Malformed != 0 || st.Entries != 3 {
			t.Fatalf("stats: %+v", st)
		}
		fx.verify(t)

		fx.clk.Advance(time.Hour)
		if _, err := fx.mon.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		if len(list) != 1 || list[0].Credential != "pgaudit:bob" || list[0].Accesses != 1 ||
			!strings.Contains(list[0].Summary, "db:bob is mapped to no steward role") {
			t.Fatalf("incidents: %+v", list)
		}

		// A crash and restart: a new tailer from the stored position adds
		// nothing.
		if es := fx.waitEntries(t, pg.LogDir, 0); len(es) != before+3 {
			t.Fatalf("after restart: %d entries", len(es))
		}

		// A line PostgreSQL did not write, in its file (it appends
		// after it): counted, skipped, and the next read still logged.
		files, _ := filepath.Glob(filepath.Join(pg.LogDir, "*.csv"))
		sort.Strings(files)
		f, err := os.OpenFile(files[len(files)-1], os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("2026-12-03 not a csvlog record\n")
		f.Close()
		exec1(t, bob, "SELECT count(*) FROM events")
		if es := fx.waitEntries(t, pg.LogDir, before+4); len(es) != before+4 || es[len(es)-1].Actor != "db:bob" {
			t.Fatalf("after the bad line: %d entries", len(es))
		}
		if st := fx.stats(t, fx.tailer(pg.LogDir)); st.Malformed != 1 {
			t.Fatalf("malformed: %+v", st)
		}

		// PostgreSQL rotates to a new file (named by the second, so a
		// second later): the tailer goes on in it.
		time.Sleep(1100 * time.Millisecond)
		exec1(t, admin, "SELECT pg_rotate_logfile()")
		deadline := time.Now().Add(30 * time.Second)
		for {
			files, _ = filepath.Glob(filepath.Join(pg.LogDir, "*.csv"))
			if len(files) > 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(files) < 2 {
			t.Fatalf("no new log file after pg_rotate_logfile: %v", files)
		}
		exec1(t, app, "SELECT 1 FROM events")
		if es := fx.waitEntries(t, pg.LogDir, before+5); len(es) != before+5 || es[len(es)-1].Actor != "db:app_reader" {
			t.Fatalf("after rotation: %d entries", len(es))
		}
		sort.Strings(files)
		if st := fx.stats(t, fx.tailer(pg.LogDir)); st.File != filepath.Base(files[len(files)-1]) || st.Malformed != 1 {
			t.Fatalf("after rotation: %+v", st)
		}
		fx.verify(t)
	})
}
