package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

func dir(names ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for _, n := range names {
		m[n] = &fstest.MapFile{Data: []byte("-- " + n)}
	}
	return m
}

func TestLoad(t *testing.T) {
	files, err := Load(dir("0002_registry_versions.sql", "0001_initial.sql", "0010_ten.sql", "0003_c.sql", "0004_d.sql",
		"0005_e.sql", "0006_f.sql", "0007_g.sql", "0008_h.sql", "0009_i.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range files {
		ids = append(ids, f.ID())
	}
	if got := strings.Join(ids, " "); got != "0001_initial 0002_registry_versions 0003_c 0004_d 0005_e 0006_f 0007_g 0008_h 0009_i 0010_ten" {
		t.Fatalf("order: %s", got)
	}
	if files[0].Version != 1 || files[0].Name != "initial" || files[0].SQL != "-- 0001_initial.sql" {
		t.Fatalf("first: %+v", files[0])
	}
	for _, c := range []struct {
		fs   fstest.MapFS
		want string
	}{
		{dir(), "none found"},
		{dir("0001_initial.sql", "0003_c.sql"), "0003_c should be number 0002"},
		{dir("0002_b.sql"), "0002_b should be number 0001"},
		{dir("0001_initial.sql", "0002_b.sql", "0002_other.sql"), "share number 0002"},
		{dir("0001_initial.sql", "2_b.sql"), `"2_b.sql" is not named NNNN_name.sql`},
		{dir("0001_initial.sql", "0002_B.sql"), "not named"},
		{dir("0001_initial.sql", "0002_b.SQL"), "not named"},
		{dir("0001_initial.sql", "README.md"), "not named"},
		{dir("0000_zero.sql"), "0000_zero should be number 0001"},
	} {
		if _, err := Load(c.fs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.fs, err, c.want)
		}
	}
}

func files(n int) []File {
	var fs []File
	for i := 1; i <= n; i++ {
		fs = append(fs, File{Version: i, Name: fmt.Sprintf("m%d", i), SQL: fmt.Sprint(i)})
	}
	return fs
}

func rec(vs ...int) []store.Migration {
	var ms []store.Migration
	for _, v := range vs {
		ms = append(ms, store.Migration{Version: v, Name: fmt.Sprintf("m%d", v), Applied: true, AppliedAt: time.Unix(int64(v), 0)})
	}
	return ms
}

func summary(ms []store.Migration) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d", m.Version)
		switch {
		case m.Baseline:
			b.WriteString("b ")
		case m.Applied:
			b.WriteString("a ")
		default:
			b.WriteString("p ")
		}
	}
	return strings.TrimSpace(b.String())
}

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		name string
		st   State
		want string
	}{
		{"fresh", State{}, "1p 2p 3p"},
		{"unversioned", State{Unversioned: true}, "1b 2p 3p"},
		{"partly", State{Tracked: true, Applied: rec(1)}, "1a 2p 3p"},
		{"current", State{Tracked: true, Applied: rec(1, 2, 3)}, "1a 2a 3a"},
	} {
		got, err := Status(files(3), c.st)
		if err != nil || summary(got) != c.want {
			t.Errorf("%s: %s %v, want %s", c.name, summary(got), err, c.want)
		}
	}
	_, err := Status(files(3), State{Tracked: true, Applied: rec(1, 2, 3, 4, 5, 6, 7)})
	if !errors.Is(err, store.ErrSchemaTooNew) || err.Error() != "database schema is at version 7 but this steward knows only up to 3; upgrade steward (or point it at the right database)" {
		t.Fatalf("too new: %v", err)
	}
	if _, err := Status(files(3), State{Tracked: true, Applied: rec(1, 3)}); err == nil || !strings.Contains(err.Error(), "records migration 0003 but not 0002_m2") {
		t.Fatalf("skipped one: %v", err)
	}
	renamed := rec(1, 2)
	renamed[1].Name = "other"
	if _, err := Status(files(3), State{Tracked: true, Applied: renamed}); err == nil || !strings.Contains(err.Error(), `records migration 0002 as "other"`) {
		t.Fatalf("renamed: %v", err)
	}
}

// fake is a Target in memory.
type fake struct {
	st    State
	ran   []string
	raced int // Apply finds this version recorded already
	fail  int
}

func (f *fake) State(context.Context) (State, error) { return f.st, nil }

func (f *fake) Apply(_ context.Context, m File, baseline bool, at time.Time) (bool, error) {
	if m.Version == f.fail {
		return false, errors.New("syntax error")
	}
	f.st.Tracked = true
	if m.Version == f.raced {
		return false, nil
	}
	if !baseline {
		f.ran = append(f.ran, m.ID())
	}
	f.st.Applied = append(f.st.Applied, store.Migration{Version: m.Version, Name: m.Name, Applied: true, AppliedAt: at})
	return true, nil
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	done, err := Run(ctx, f, files(3))
	if err != nil || summary(done) != "1a 2a 3a" || strings.Join(f.ran, " ") != "0001_m1 0002_m2 0003_m3" || done[0].AppliedAt.IsZero() {
		t.Fatalf("fresh: %s %v %v", summary(done), f.ran, err)
	}
	if done, err := Run(ctx, f, files(3)); err != nil || len(done) != 0 {
		t.Fatalf("again: %v %v", done, err)
	}
	if done, err := Run(ctx, f, files(4)); err != nil || summary(done) != "4a" {
		t.Fatalf("one more: %s %v", summary(done), err)
	}

	// An unversioned database: 0001 is recorded, not run.
	f = &fake{st: State{Unversioned: true}}
	done, err = Run(ctx, f, files(2))
	if err != nil || summary(done) != "1b 2a" || strings.Join(f.ran, " ") != "0002_m2" {
		t.Fatalf("unversioned: %s %v %v", summary(done), f.ran, err)
	}

	// Another process applied 0002 between State and Apply.
	f = &fake{raced: 2}
	if done, err := Run(ctx, f, files(3)); err != nil || summary(done) != "1a 3a" {
		t.Fatalf("raced: %s %v", summary(done), err)
	}

	// A failing migration stops the run and is named; earlier ones stay.
	f = &fake{fail: 2}
	done, err = Run(ctx, f, files(3))
	if err == nil || err.Error() != "migration 0002_m2: syntax error" || summary(done) != "1a" {
		t.Fatalf("failing: %s %v", summary(done), err)
	}

	f = &fake{st: State{Tracked: true, Applied: rec(1, 2, 3, 4)}}
	if _, err := Run(ctx, f, files(3)); !errors.Is(err, store.ErrSchemaTooNew) || len(f.ran) != 0 {
		t.Fatalf("too new: %v %v", err, f.ran)
	}
}
