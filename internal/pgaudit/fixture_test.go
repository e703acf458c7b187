package pgaudit_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/pgaudit"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// mapping is the example's: public.events holds interaction_data;
// app_reader is an analyst improving the product; bob is mapped to nothing.
var mapping = pgaudit.Mapping{
	Tables: map[string]string{"public.events": "interaction_data"},
	Roles:  map[string]pgaudit.Grant{"app_reader": {Role: "analyst", Purpose: "product_improvement"}},
}

type fixture struct {
	st  store.Store
	clk *clock.Fake
	mon *incident.Monitor
}

// underBackends runs f on SQLite, and on PostgreSQL when
// STEWARD_TEST_POSTGRES names one.
func underBackends(t *testing.T, f func(t *testing.T, fx *fixture)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { f(t, openFixture(t, name)) })
	}
}

func openFixture(t testing.TB, backend string) *fixture {
	dsn := ""
	if backend == "postgres" {
		if os.Getenv(pgtest.Env) == "" {
			t.Skip("set " + pgtest.Env + " to run on PostgreSQL")
		}
		dsn = pgtest.Schema(t)
	}
	ctx := context.Background()
	st, err := backends.Open(ctx, dsn, t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	src := registry.NewSource(st, clk.Now, nil)
	if _, _, err := src.Publish(ctx, registry.DefaultYAML, "built-in", registry.Approval{By: "built-in example"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, store.User{ID: "im", Email: "im@example.org", Role: string(auth.IncidentManager), PasswordHash: "x", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := mapping.Validate(func(d string) bool { return src.Current().Dataset(d) != nil }); err != nil {
		t.Fatal(err)
	}
	pol := policy.NewSource(policy.DefaultYAML, "built-in policy", src, nil)
	svc := &incident.Service{Store: st, Registry: src, Clock: clk, PublicURL: "https://steward.example"}
	return &fixture{st: st, clk: clk, mon: &incident.Monitor{Service: svc, Policy: pol, Holder: "node-a"}}
}

// tailer is a fresh tailer over dir, as a restarted node would make it.
func (fx *fixture) tailer(dir string) *pgaudit.Tailer {
	return &pgaudit.Tailer{Store: fx.st, Dir: dir, Mapping: mapping, Holder: "node-a", Now: fx.clk.Now}
}

// entries are the access log's entries from pgaudit (the monitor adds
// its own for each incident action).
func (fx *fixture) entries(t *testing.T) []store.AccessEntry {
	t.Helper()
	es, err := fx.st.ListAccess(context.Background(), store.AccessQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(es, func(e store.AccessEntry) bool { return e.AuthMethod != pgaudit.AuthMethod })
}

func (fx *fixture) verify(t *testing.T) {
	t.Helper()
	res, err := accesslog.Verify(context.Background(), fx.st, accesslog.Options{})
	if err != nil || res.Break != nil {
		t.Fatalf("chain: %v %v", err, res.Break)
	}
}

func (fx *fixture) stats(t *testing.T, tl *pgaudit.Tailer) pgaudit.Stats {
	t.Helper()
	s, err := tl.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
