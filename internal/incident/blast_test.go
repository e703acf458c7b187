package incident_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

var blastManager = incident.Actor{Name: "im@example.org", Role: auth.IncidentManager, Method: "password", Credential: "sess-1"}

// bobsIncident: bob's credential reads outside policy in two datasets
// (k3 in both), is refused once, and reads again two hours later; the
// monitor opens the incident it all belongs to.
func bobsIncident(t *testing.T, fx *fixture) store.Incident {
	t.Helper()
	ctx := context.Background()
	fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0, "k1", "k2")
	fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0.Add(time.Minute), "k2", "k3")
	fx.read(t, "bob", "analyst", "request_log", "marketing", t0.Add(2*time.Minute), "k3", "k4")
	if err := fx.log.Append(ctx, &store.AccessEntry{At: t0.Add(3 * time.Minute), Actor: "token bob", AuthMethod: "external", CredentialID: "bob",
		Role: "analyst", Purpose: "marketing", Dataset: "interaction_data", Query: "events", SubjectKeys: []string{"k9"}, Decision: accesslog.Denied, Reason: "refused"}); err != nil {
		t.Fatal(err)
	}
	fx.read(t, "dash", "analyst", "interaction_data", "product_improvement", t0.Add(4*time.Minute), "k7")
	fx.read(t, "bob", "analyst", "interaction_data", "marketing", t0.Add(2*time.Hour), "k5")
	fx.clk.Set(t0.Add(3 * time.Hour))
	if _, err := fx.mon.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := fx.st.ListIncidents(ctx, store.IncidentQuery{})
	if err != nil || len(list) != 1 || list[0].Credential != "external:bob" {
		t.Fatalf("incidents: %v %+v", err, list)
	}
	return list[0]
}

func TestBlastRadiusOfACredentialAndItsRecompute(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := bobsIncident(t, fx)
		got, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{To: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		b, ok := incident.BlastOf(got)
		if !ok {
			t.Fatal("no blast radius stored")
		}
		// From t_l to the given end: the credential the monitor named,
		// denied entry left out, k3 counted once across datasets.
		if b.Credential != "external:bob" || b.Source != incident.BlastAccessLog || !b.From.Equal(t0) || !b.To.Equal(t0.Add(time.Hour)) ||
			b.Entries != 3 || b.Records != 6 || b.Subjects != 4 || !slices.Equal(b.SubjectKeys, []string{"k1", "k2", "k3", "k4"}) || b.KeysTruncated {
			t.Fatalf("blast: %+v", b)
		}
		if len(b.Datasets) != 2 || b.Datasets[0].Name != "interaction_data" || b.Datasets[0].Subjects != 3 || b.Datasets[0].Entries != 2 ||
			b.Datasets[0].Owner != "kpi-team@example.org" || b.Datasets[0].SubjectKind != "pseudonymous" || b.Datasets[1].Name != "request_log" ||
			b.Datasets[1].Subjects != 2 || b.Datasets[1].Owner != "ops@example.org" {
			t.Fatalf("datasets: %+v", b.Datasets)
		}
		var clientID bool
		for _, f := range b.Datasets[0].Fields {
			clientID = clientID || (f.Name == "client_id" && f.Category == 2)
		}
		if !clientID || !slices.Equal(b.Categories, []int{1, 2}) || !slices.Equal(b.SubjectKinds, []string{"pseudonymous"}) {
			t.Fatalf("fields and categories: %+v %v %v", b.Datasets[0].Fields, b.Categories, b.SubjectKinds)
		}
		if !got.WindowFrom.Equal(t0) || !got.WindowTo.Equal(t0.Add(time.Hour)) || got.Version != inc.Version+1 {
			t.Fatalf("window: %+v", got)
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		last := hist[len(hist)-1]
		if last.Actor != blastManager.Name || !strings.Contains(last.Note, "blast radius for 2026-11-22 12:00:00 UTC to 2026-11-22 13:00:00 UTC: 4 people, 6 records in 2 datasets") {
			t.Fatalf("history: %+v", last)
		}
		logged, _ := fx.st.ListAccess(ctx, store.AccessQuery{Dataset: incident.Dataset, Actor: blastManager.Name, Limit: 10})
		if len(logged) != 1 || !strings.Contains(logged[0].Query, "blast radius") || logged[0].CredentialID != "sess-1" {
			t.Fatalf("access log: %+v", logged)
		}

		// A wider window replaces the result: the later read now counts.
		got, err = fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{From: t0, To: t0.Add(3 * time.Hour), Version: got.Version})
		if err != nil {
			t.Fatal(err)
		}
		b, _ = incident.BlastOf(got)
		if b.Subjects != 5 || b.Entries != 4 || !got.WindowTo.Equal(t0.Add(3*time.Hour)) {
			t.Fatalf("recomputed: %+v", b)
		}
		hist, _ = fx.st.IncidentHistory(ctx, inc.ID)
		if n := hist[len(hist)-1].Note; !strings.Contains(n, "5 people") || !strings.Contains(n, "replaces 4 people, 6 records") {
			t.Fatalf("recompute note: %q", n)
		}
		// With no window given, the one stored is kept.
		again, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{})
		if b2, _ := incident.BlastOf(again); err != nil || !b2.To.Equal(t0.Add(3*time.Hour)) || b2.Subjects != 5 {
			t.Fatalf("kept window: %v %+v", err, b2)
		}
	})
}

func TestBlastRadiusRefusesBadWindowsAndOthers(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := bobsIncident(t, fx)
		if _, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{To: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		before, _ := fx.st.GetIncident(ctx, inc.ID)
		hist0, _ := fx.st.IncidentHistory(ctx, inc.ID)
		now := t0.Add(3 * time.Hour)
		for _, c := range []struct {
			in   incident.WindowInput
			want string
		}{
			{incident.WindowInput{From: t0.Add(time.Hour), To: t0}, "must be before"},
			{incident.WindowInput{From: t0, To: t0}, "must be before"},
			{incident.WindowInput{To: now.Add(time.Minute)}, "future"},
			{incident.WindowInput{From: now.Add(-401 * 24 * time.Hour), To: now}, "at most 400 days"},
			{incident.WindowInput{Credential: "bob"}, "method:id"},
			{incident.WindowInput{Dataset: "no_such"}, `no dataset "no_such"`},
			{incident.WindowInput{Source: "backups"}, "source"},
			{incident.WindowInput{Source: incident.BlastEventStore, Credential: "external:bob"}, "by dataset"},
		} {
			_, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, c.in)
			if !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: %v, want %q", c.in, err, c.want)
			}
		}
		if _, err := fx.svc.SetWindow(ctx, inc.ID, incident.Actor{Name: "aud", Role: auth.Auditor}, incident.WindowInput{}); !errors.Is(err, incident.ErrForbidden) {
			t.Errorf("auditor: %v", err)
		}
		if _, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{Version: before.Version - 1}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("stale version: %v", err)
		}
		after, _ := fx.st.GetIncident(ctx, inc.ID)
		hist1, _ := fx.st.IncidentHistory(ctx, inc.ID)
		if after.Version != before.Version || string(after.Blast) != string(before.Blast) || !after.WindowTo.Equal(before.WindowTo) || len(hist1) != len(hist0) {
			t.Fatalf("bad input changed the incident: %+v", after)
		}
		// A hand-opened incident with neither credential nor dataset says so.
		hand, err := fx.svc.OpenByHand(ctx, blastManager, incident.OpenInput{Title: "lost laptop", LeakAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.SetWindow(ctx, hand.ID, blastManager, incident.WindowInput{}); !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), "names neither") {
			t.Fatalf("no scope: %v", err)
		}
	})
}

func TestBlastRadiusOfADatasetAndOfTheEventStore(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := bobsIncident(t, fx)
		// Everyone who read interaction_data in the first hour: bob twice
		// and dash once, never the refused read.
		got, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{Dataset: "interaction_data", To: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := incident.BlastOf(got)
		if b.Credential != "" || b.Dataset != "interaction_data" || b.Entries != 3 || b.Subjects != 4 || len(b.Datasets) != 1 ||
			!slices.Equal(b.SubjectKeys, []string{"k1", "k2", "k3", "k7"}) {
			t.Fatalf("dataset: %+v", b)
		}
		// The store itself leaked: what it holds of the dataset.
		var evs []store.Event
		for i, k := range []string{"s1", "s2", "s1", ""} {
			evs = append(evs, store.Event{Dataset: "interaction_data", ReceivedAt: t0.Add(time.Duration(i) * time.Minute), SubjectKey: k, Data: []byte(`{}`)})
		}
		evs = append(evs, store.Event{Dataset: "request_log", ReceivedAt: t0, Data: []byte(`{}`)})
		if _, err := fx.st.InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		got, err = fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{Source: incident.BlastEventStore, From: t0, To: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ = incident.BlastOf(got)
		if b.Source != incident.BlastEventStore || b.Dataset != "interaction_data" || b.Records != 4 || b.Entries != 0 || b.Subjects != 2 ||
			!slices.Equal(b.SubjectKeys, []string{"s1", "s2"}) || len(b.Datasets) != 1 || b.Datasets[0].SubjectKind != "pseudonymous" {
			t.Fatalf("event store: %+v", b)
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		if n := hist[len(hist)-1].Note; !strings.Contains(n, "2 people, 4 records in 1 datasets (dataset interaction_data, from the event store)") {
			t.Fatalf("note: %q", n)
		}
	})
}

func TestMonitorsIncidentGetsADefaultBlastRadius(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := bobsIncident(t, fx)
		if err := fx.svc.DefaultBlasts(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := fx.st.GetIncident(ctx, inc.ID)
		b, ok := incident.BlastOf(got)
		// From t_l (bob's first read) to now: all four of bob's allowed reads.
		if !ok || !b.From.Equal(t0) || !b.To.Equal(t0.Add(3*time.Hour)) || b.Subjects != 5 || b.Credential != "external:bob" {
			t.Fatalf("default blast radius: %+v", b)
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		if last := hist[len(hist)-1]; last.Actor != "steward breach monitor" || !strings.Contains(last.Note, "5 people") {
			t.Fatalf("history: %+v", last)
		}
		// Once there is one, the tick leaves it (and a person's window) alone.
		fx.clk.Advance(time.Hour)
		if err := fx.svc.DefaultBlasts(ctx); err != nil {
			t.Fatal(err)
		}
		if again, _ := fx.st.GetIncident(ctx, inc.ID); again.Version != got.Version {
			t.Fatalf("recomputed on every tick: %d -> %d", got.Version, again.Version)
		}
	})
}

// TestNewBlastRadiusRepricesTheAssessment: an assessment made before the
// facts were in follows them (DPC from "not known" to the categories
// reached) while the person's adjustment stays.
func TestNewBlastRadiusRepricesTheAssessment(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := bobsIncident(t, fx)
		half := 0.5
		inc, err := fx.svc.Assess(ctx, inc.ID, blastManager, incident.AssessInput{
			Malicious: &incident.Adjustment{Value: &half, Reason: "the credential was used from an unknown network"}})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := incident.SeverityOf(inc)
		got, err := fx.svc.SetWindow(ctx, inc.ID, blastManager, incident.WindowInput{To: t0.Add(time.Hour), Version: inc.Version})
		if err != nil {
			t.Fatal(err)
		}
		after, ok := incident.SeverityOf(got)
		if !ok || after.DPC.Pre != 2 || after.DPC.Value != 2 || after.CB.Malicious.Value != 0.5 || !after.CB.Malicious.Adjusted || after.Score >= before.Score {
			t.Fatalf("repriced: before %+v after %+v", before, after)
		}
	})
}

// TestBlastRadiusOfADatabaseRoleIsWhatItsTablesHeld: pgaudit says a role
// ran a SELECT on a table, not which rows came back, so the radius counts
// everyone the dataset held at the role's last read, marked an upper
// bound, and their keys join the list so they can be told.
func TestBlastRadiusOfADatabaseRoleIsWhatItsTablesHeld(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		var evs []store.Event
		for i, k := range []string{"s1", "s2", "s3", "s1"} {
			evs = append(evs, store.Event{Dataset: "interaction_data", ReceivedAt: t0.Add(time.Duration(i-2) * time.Hour), SubjectKey: k, Data: []byte(`{}`)})
		}
		if _, err := fx.st.InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		// The role reads at t0+30m: events received after it (s1 again at
		// t0+1h) were not there to read.
		if err := fx.log.Append(ctx, &store.AccessEntry{At: t0.Add(30 * time.Minute), Actor: "db:mallory", AuthMethod: "pgaudit", CredentialID: "mallory",
			Dataset: "interaction_data", Query: "READ SELECT public.events", Decision: accesslog.Allowed, Reason: "pgaudit"}); err != nil {
			t.Fatal(err)
		}
		fx.clk.Set(t0.Add(2 * time.Hour))
		if _, err := fx.mon.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := fx.st.ListIncidents(ctx, store.IncidentQuery{})
		if len(list) != 1 || list[0].Credential != "pgaudit:mallory" {
			t.Fatalf("incidents: %+v", list)
		}
		got, err := fx.svc.SetWindow(ctx, list[0].ID, blastManager, incident.WindowInput{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := incident.BlastOf(got)
		if !b.UpperBound || b.Subjects != 3 || b.Records != 3 || !slices.Equal(b.SubjectKeys, []string{"s1", "s2", "s3"}) ||
			len(b.Datasets) != 1 || !b.Datasets[0].UpperBound || b.Datasets[0].Subjects != 3 {
			t.Fatalf("a database role's radius: %+v", b)
		}
		hist, _ := fx.st.IncidentHistory(ctx, got.ID)
		if n := hist[len(hist)-1].Note; !strings.Contains(n, "3 people, 3 records") || !strings.Contains(n, "an upper bound") {
			t.Fatalf("note: %q", n)
		}
		rep := fx.svc.AuthorityReportOf(got, hist)
		if rep.Data == nil || !strings.Contains(rep.Data.Basis, "upper bound") {
			t.Fatalf("report basis: %+v", rep.Data)
		}
	})
}
