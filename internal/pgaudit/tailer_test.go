package pgaudit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

// line is a csvlog record of a pgaudit READ as PostgreSQL 15 writes it.
func line(user, table, session string, stmt int) string {
	return fmt.Sprintf(`2026-12-03 11:%02d:00.000 UTC,"%s","app",4242,"192.0.2.77:50000",%s,%d,"SELECT",2026-12-03 11:00:00 UTC,3/4,0,LOG,00000,"AUDIT: SESSION,%d,1,READ,SELECT,TABLE,%s,""select *
from %s where email = 'someone@example.org'"",<not logged>",,,,,,,,,"psql","client backend",,0`+"\n",
		stmt%60, user, session, stmt, stmt, table, table)
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestTailerFileRotationPartialLinesAndRestart(t *testing.T) {
	underBackends(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		dir := t.TempDir()
		first := filepath.Join(dir, "postgresql-2026-12-03_110000.csv")
		server := `2026-12-03 11:00:00.000 UTC,,,1,,6b1.1,1,,2026-12-03 11:00:00 UTC,,0,LOG,00000,"database system is ready to accept connections",,,,,,,,,"","postmaster",,0` + "\n"
		late := line("app_reader", "public.events", "s1", 9)
		appendTo(t, first, server+
			line("app_reader", "public.events", "s1", 1)+
			"a line no PostgreSQL wrote\n"+
			line("bob", "public.events", "s2", 1)+
			line("bob", "public.events", "s2", 1)+ // the table named twice in one statement
			line("app_reader", "public.other", "s1", 2)+
			`2026-12-03 11:00:00.000 UTC,"bob","app",1,"[local]",s3,1,"SELECT",x,3/4,0,LOG,00000,"AUDIT: SESSION,1,1,READ"`+"\n"+
			late[:len(late)/2]) // still being written
		tl := fx.tailer(dir)
		if err := tl.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		es := fx.entries(t)
		if len(es) != 2 || es[0].Actor != "db:app_reader" || es[0].Role != "analyst" || es[1].Actor != "db:bob" || es[1].Role != "" {
			t.Fatalf("entries: %+v", es)
		}
		for _, e := range es {
			if e.AuthMethod != "pgaudit" || e.Dataset != "interaction_data" || e.Query != "READ SELECT public.events" ||
				e.ClientNet != "192.0.2.0" || strings.Contains(e.Reason+e.Query, "someone@") {
				t.Fatalf("entry: %+v", e)
			}
		}
		st := fx.stats(t, tl)
		if st.Records != 7 || st.Entries != 2 || st.Malformed != 2 || st.Unmapped != 1 || st.Other != 2 {
			t.Fatalf("stats: %+v", st)
		}
		// The unfinished record is read once its newline is there.
		appendTo(t, first, late[len(late)/2:])
		if err := fx.tailer(dir).CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if es := fx.entries(t); len(es) != 3 {
			t.Fatalf("after the rest of the line: %d entries", len(es))
		}

		// Rotation: PostgreSQL leaves a half-written record (it crashed)
		// and starts a new file; the old file is renamed away meanwhile,
		// and still found by its inode.
		appendTo(t, first, line("app_reader", "public.events", "s1", 10)+`2026-12-03 11:59:00.000 UTC,"bob","app"`)
		if err := os.Rename(first, filepath.Join(dir, "postgresql-2026-12-03_110000.old.csv")); err != nil {
			t.Fatal(err)
		}
		appendTo(t, filepath.Join(dir, "postgresql-2026-12-03_120000.csv"), line("bob", "public.events", "s4", 1)+line("bob", "public.events", "s4", 2))
		// A restarted node: a new tailer from the stored position.
		if err := fx.tailer(dir).CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		es = fx.entries(t)
		if len(es) != 6 || es[3].Actor != "db:app_reader" || es[4].Actor != "db:bob" {
			t.Fatalf("after rotation: %d entries %+v", len(es), es)
		}
		st = fx.stats(t, tl)
		if st.Malformed != 3 || st.File != "postgresql-2026-12-03_120000.csv" {
			t.Fatalf("stats after rotation: %+v", st)
		}
		// Nothing is read twice, however often it runs.
		for range 3 {
			if err := fx.tailer(dir).CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(fx.entries(t)); n != 6 {
			t.Fatalf("re-read: %d entries", n)
		}
		fx.verify(t)

		// The monitor sees bob's reads: a database role mapped to no
		// steward role. app_reader's are within policy.
		fx.clk.Advance(2 * 60 * 60 * 1e9)
		if _, err := fx.mon.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		if len(list) != 1 || list[0].Source != incident.SourcePolicy || list[0].Credential != "pgaudit:bob" ||
			!strings.Contains(list[0].Summary, "db:bob is mapped to no steward role") || list[0].Accesses != 3 {
			t.Fatalf("incidents: %+v", list)
		}
		fx.verify(t)
	})
}

// TestTailerLogsRecordsLongerThanTheBound: a statement padded past the
// size bound does not hide the read (its record's start names the role
// and table), and lines faked inside a statement stay part of it.
func TestTailerLogsRecordsLongerThanTheBound(t *testing.T) {
	fx := openFixture(t, "sqlite")
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "postgresql.csv")
	fake := "\n" + strings.TrimSuffix(line("app_reader", "public.events", "fake", 7), "\n")
	fake = strings.ReplaceAll(fake, `"`, `""""`) // as pgaudit and csvlog quote a statement's quotes
	huge := strings.Replace(line("bob", "public.events", "s1", 1), "select *", "select "+strings.Repeat("x"+fake, 40), 1)
	appendTo(t, path, huge+line("app_reader", "public.events", "s1", 2)+huge+line("app_reader", "public.events", "s1", 3))
	tl := fx.tailer(dir)
	tl.MaxRecord = 4096
	if len(huge) < 3*tl.MaxRecord {
		t.Fatalf("the record is only %d bytes", len(huge))
	}
	if err := tl.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	es := fx.entries(t)
	var got []string
	for _, e := range es {
		got = append(got, e.Actor)
	}
	if strings.Join(got, " ") != "db:bob db:app_reader db:app_reader" || !strings.Contains(es[0].Reason, "over the size bound") {
		t.Fatalf("entries: %v %+v", got, es)
	}
	if st := fx.stats(t, tl); st.Malformed != 0 || st.Entries != 3 || st.Other != 1 || st.Records != 4 || st.Skipping {
		t.Fatalf("stats: %+v", st)
	}
	// Without the bound the same log reads the same, statements whole.
	fx2 := openFixture(t, "sqlite")
	if err := fx2.tailer(dir).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fx2.entries(t)); n != 3 {
		t.Fatalf("unbounded: %d entries", n)
	}
}

func TestTailerLeaseKeepsOneNode(t *testing.T) {
	fx := openFixture(t, "sqlite")
	ctx := context.Background()
	dir := t.TempDir()
	appendTo(t, filepath.Join(dir, "postgresql.csv"), line("bob", "public.events", "s1", 1))
	other := fx.tailer(dir)
	other.Holder = "node-b"
	if err := fx.tailer(dir).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	appendTo(t, filepath.Join(dir, "postgresql.csv"), line("bob", "public.events", "s1", 2))
	if moved, err := other.Round(ctx); err != nil || moved {
		t.Fatalf("node-b read while node-a holds the lease: %v %v", moved, err)
	}
	if n := len(fx.entries(t)); n != 1 {
		t.Fatalf("%d entries", n)
	}
}

// TestTailerTruncatedAndDeletedFiles: a file truncated in place
// (log_truncate_on_rotation) is read again from its start; when the file
// being read is deleted, reading goes on with the next one by name.
func TestTailerTruncatedAndDeletedFiles(t *testing.T) {
	fx := openFixture(t, "sqlite")
	ctx := context.Background()
	dir := t.TempDir()
	mon := filepath.Join(dir, "postgresql-Mon.csv")
	appendTo(t, mon, line("bob", "public.events", "s1", 1)+line("bob", "public.events", "s1", 2))
	if err := fx.tailer(dir).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	// A week later the collector truncates the file and writes anew.
	if err := os.WriteFile(mon, []byte(line("bob", "public.events", "s9", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fx.tailer(dir).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.entries(t)); n != 3 {
		t.Fatalf("after truncation: %d entries", n)
	}
	// Deleted while it is the one being read; a newer one follows.
	appendTo(t, mon, line("bob", "public.events", "s9", 2)) // never read: deleted first
	if err := os.Remove(mon); err != nil {
		t.Fatal(err)
	}
	appendTo(t, filepath.Join(dir, "postgresql-Tue.csv"), line("bob", "public.events", "s10", 1))
	if err := fx.tailer(dir).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	es := fx.entries(t)
	if len(es) != 4 || !strings.Contains(es[3].Reason, "session s10") {
		t.Fatalf("after deletion: %+v", es)
	}
	if st := fx.stats(t, fx.tailer(dir)); st.File != "postgresql-Tue.csv" || st.Malformed != 0 {
		t.Fatalf("stats: %+v", st)
	}
	// A missing directory is an error every round, not silence.
	if err := fx.tailer(filepath.Join(dir, "gone")).CatchUp(ctx); err == nil || !strings.Contains(err.Error(), "pgaudit.log_dir") {
		t.Fatalf("missing dir: %v", err)
	}
}

// TestTailerPassesOverForeignLines: a line PostgreSQL did not write (it
// does not start with a log_time) is one malformed record, even with an
// odd quote in it that would otherwise run on into the records after it.
func TestTailerPassesOverForeignLines(t *testing.T) {
	fx := openFixture(t, "sqlite")
	ctx := context.Background()
	dir := t.TempDir()
	appendTo(t, filepath.Join(dir, "postgresql.csv"), line("bob", "public.events", "s1", 1)+
		"an editor's note \"with an odd quote\n\n"+
		line("bob", "public.events", "s1", 2)+"garbage without its newline, \"yet")
	tl := fx.tailer(dir)
	if err := tl.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.entries(t)); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	if st := fx.stats(t, tl); st.Malformed != 2 || st.Records != 4 {
		t.Fatalf("stats: %+v", st)
	}
	// Its newline comes, and the records after it are read.
	appendTo(t, filepath.Join(dir, "postgresql.csv"), "\n"+line("bob", "public.events", "s1", 3))
	if err := tl.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.entries(t)); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	if st := fx.stats(t, tl); st.Malformed != 3 {
		t.Fatalf("stats: %+v", st)
	}
}
