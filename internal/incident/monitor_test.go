package incident_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st  store.Store
	clk *clock.Fake
	svc *incident.Service
	mon *incident.Monitor
	reg *registry.Source
	log *accesslog.Appender
}

func backendsUnder(t *testing.T, f func(t *testing.T, fx *fixture)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { f(t, openFixture(t, name)) })
	}
}

func openFixture(t testing.TB, name string) *fixture {
	dsn := ""
	if name == "postgres" {
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
	pol := policy.NewSource(policy.DefaultYAML, "built-in policy", src, nil)
	svc := &incident.Service{Store: st, Registry: src, Clock: clk, PublicURL: "https://steward.example"}
	app := accesslog.NewAppender(st, nil)
	t.Cleanup(app.Close)
	return &fixture{st: st, clk: clk, svc: svc, reg: src, log: app,
		mon: &incident.Monitor{Service: svc, Policy: pol, Holder: "node-a", Batch: 7}}
}

// read appends an allowed read as steward's read API would record it.
func (fx *fixture) read(t *testing.T, cred, role, dataset, purpose string, at time.Time, keys ...string) int64 {
	t.Helper()
	e := &store.AccessEntry{At: at, Actor: "token " + cred, AuthMethod: "external", CredentialID: cred, Role: role, Purpose: purpose,
		Dataset: dataset, Query: "events", Records: int64(len(keys)), SubjectKeys: keys, Decision: accesslog.Allowed, Reason: "reported"}
	if err := fx.log.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e.Seq
}

func mails(t *testing.T, st store.Store, ref string) map[string]int {
	t.Helper()
	msgs, err := st.ListOutbox(context.Background(), ref, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range msgs {
		out[m.To]++
	}
	return out
}

func TestMonitorOpensOneIncidentPerCauseAndTellsOwnerOnce(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.read(t, "dash", "analyst", "interaction_data", "product_improvement", t0, "k1") // within policy
		var bad []int64
		for i := range 10 {
			bad = append(bad, fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0.Add(time.Duration(i)*time.Minute), "k2"))
		}
		fx.read(t, "dash", "analyst", "interaction_data", "product_improvement", t0, "k3")
		fx.clk.Advance(time.Hour)
		n, err := fx.mon.CatchUp(ctx)
		if err != nil || n < 12 {
			t.Fatalf("catch up: %d %v", n, err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		if len(list) != 1 {
			t.Fatalf("incidents: %+v", list)
		}
		inc := list[0]
		if inc.Source != incident.SourcePolicy || inc.Accesses != 10 || !inc.LeakAt.Equal(t0) || !inc.AwareAt.Equal(t0.Add(time.Hour)) ||
			!inc.OwnerNotifiedAt.Equal(t0.Add(time.Hour)) || inc.Dataset != "interaction_data" || !strings.Contains(inc.Summary, `purpose "marketing"`) {
			t.Fatalf("incident: %+v", inc)
		}
		as, _ := fx.st.IncidentAccesses(ctx, inc.ID, 0)
		if len(as) != 10 || as[0].Seq != bad[0] || as[9].Seq != bad[9] {
			t.Fatalf("accesses: %+v want %v", as, bad)
		}
		got := mails(t, fx.st, "incident:1")
		if got["kpi-team@example.org"] != 1 || got["im@example.org"] != 1 || len(got) != 2 {
			t.Fatalf("mail: %v", got)
		}
		// Nothing is checked twice; a later offence of the same cause
		// joins the open incident and tells nobody again.
		if n, _ := fx.mon.CatchUp(ctx); n != 0 {
			t.Fatalf("checked %d entries again", n)
		}
		late := fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0.Add(2*time.Hour), "k9")
		if _, err := fx.mon.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		inc, _ = fx.st.GetIncident(ctx, inc.ID)
		if inc.Accesses != 11 {
			t.Fatalf("joined: %+v", inc)
		}
		if got := mails(t, fx.st, "incident:1"); got["kpi-team@example.org"] != 1 {
			t.Fatalf("mail after join: %v", got)
		}
		pos, _ := fx.st.GetMonitorPosition(ctx, incident.MonitorName)
		head, _ := fx.st.AccessHead(ctx)
		if pos.Seq != head.Seq || pos.Seq < late || pos.Checked != head.Seq {
			t.Fatalf("position %+v head %d", pos, head.Seq)
		}
		// The detection and its notification are in the chain.
		var logged []string
		fx.st.ScanAccess(ctx, 0, head.Seq, func(e *store.AccessEntry) error {
			if e.Dataset == incident.Dataset {
				logged = append(logged, e.Query)
			}
			return nil
		})
		if len(logged) == 0 || !strings.Contains(logged[0], "notified kpi-team@example.org, im@example.org at 2026-11-22 13:00:00 UTC (t_n)") {
			t.Fatalf("access log: %q", logged)
		}
	})
}

func TestMonitorJudgesByThePolicyInForceAtTheTime(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		before := fx.read(t, "ops", "analyst", "request_log", "service_debugging", t0.Add(time.Minute), "k1")
		// Version 2 drops request_log: from then on no rule grants it.
		fx.clk.Advance(2 * time.Hour)
		noLog := registry.DefaultYAML[:bytes.Index(registry.DefaultYAML, []byte("\n  request_log:"))+1]
		if _, _, err := fx.reg.Publish(ctx, noLog, "v2", registry.Approval{By: "test"}); err != nil {
			t.Fatal(err)
		}
		after := fx.read(t, "ops", "analyst", "request_log", "service_debugging", t0.Add(3*time.Hour), "k1")
		fx.clk.Advance(2 * time.Hour)
		if _, err := fx.mon.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		if len(list) != 1 {
			t.Fatalf("incidents: %+v", list)
		}
		as, _ := fx.st.IncidentAccesses(ctx, list[0].ID, 0)
		if len(as) != 1 || as[0].Seq != after || as[0].Seq == before {
			t.Fatalf("accesses %+v (before %d after %d)", as, before, after)
		}
	})
}

func TestMonitorFlagsRevokedCredentialsUnmappedRolesAndVolume(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		if err := fx.st.CreateToken(ctx, store.Token{ID: "tok1", Name: "dash", Role: "analyst", SecretHash: []byte("h"), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := fx.st.RevokeToken(ctx, "tok1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		tok := func(at time.Time) {
			e := &store.AccessEntry{At: at, Actor: "token dash", AuthMethod: "token", CredentialID: "tok1", Role: "analyst", Purpose: "product_improvement",
				Dataset: "interaction_data", Records: 1, SubjectKeys: []string{"k"}, Decision: accesslog.Allowed}
			if err := fx.log.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		tok(t0.Add(30 * time.Minute)) // before revocation: fine
		tok(t0.Add(2 * time.Hour))    // after
		fx.read(t, "db:bob", "", "interaction_data", "product_improvement", t0.Add(2*time.Hour), "k")
		fx.mon.PerHour = 5
		for i := range 3 {
			fx.read(t, "bulk", "analyst", "interaction_data", "product_improvement", t0.Add(5*time.Hour+time.Duration(i)*time.Minute), "a", "b", "c")
		}
		fx.clk.Advance(6 * time.Hour)
		if _, err := fx.mon.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		var got []string
		for _, i := range list {
			got = append(got, i.Source+" "+i.Summary)
		}
		want := []string{"revoked at 2026-11-22 13:00:00", "db:bob is mapped to no steward role", "read 6 subjects within the hour"}
		if len(list) != 3 {
			t.Fatalf("incidents: %q", got)
		}
		for _, w := range want {
			if !strings.Contains(strings.Join(got, "\n"), w) {
				t.Errorf("no incident says %q: %q", w, got)
			}
		}
	})
}

func TestOnlyTheLeaseHolderChecks(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		for i := range 5 {
			fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0.Add(time.Duration(i)*time.Second), "k")
		}
		other := &incident.Monitor{Service: fx.mon.Service, Policy: fx.mon.Policy, Holder: "node-b", Batch: fx.mon.Batch}
		if n, err := fx.mon.Round(ctx); err != nil || n != 5 {
			t.Fatalf("a: %d %v", n, err)
		}
		fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0.Add(time.Minute), "k")
		if n, err := other.Round(ctx); err != nil || n != 0 {
			t.Fatalf("b checked while a holds the lease: %d %v", n, err)
		}
		fx.clk.Advance(time.Minute) // a's lease runs out: b takes over
		if n, err := other.CatchUp(ctx); err != nil || n == 0 {
			t.Fatalf("b after a's lease ran out: %d %v", n, err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		if len(list) != 1 || list[0].Accesses != 6 {
			t.Fatalf("incidents: %+v", list)
		}
	})
}

// TestAppendWakesTheMonitor: with an idle wait of an hour, only the
// access log's commit hook can make the monitor find a new offending read.
func TestAppendWakesTheMonitor(t *testing.T) {
	fx := openFixture(t, "sqlite")
	fx.log.OnCommit(fx.mon.Wake)
	first := fx.read(t, "c-wake", "analyst", "interaction_data", "product_improvement", t0, "k0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fx.mon.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	// The first round has run and the monitor is in its idle wait.
	for {
		p, err := fx.st.GetMonitorPosition(context.Background(), incident.MonitorName)
		if err != nil {
			t.Fatal(err)
		}
		if p.Seq == first {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	fx.read(t, "c-wake", "analyst", "interaction_data", "marketing", t0, "k1")
	for range 3000 {
		list, err := fx.st.ListIncidents(context.Background(), store.IncidentQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the monitor slept through an offending read")
}
