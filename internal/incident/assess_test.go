package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// blasted opens an incident of source with blast radius b stored on it,
// as the blast radius code would leave it.
func blasted(t testing.TB, fx *fixture, source string, b incident.BlastRadius) store.Incident {
	t.Helper()
	ctx := context.Background()
	inc, err := fx.svc.OpenByHand(ctx, manager, incident.OpenInput{Title: "analyst token read too much", Dataset: "interaction_data"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	inc.Source, inc.Blast = source, raw
	if err := fx.st.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &inc) }); err != nil {
		t.Fatal(err)
	}
	return inc
}

func v(f float64) *float64 { return &f }
func yes(b bool) *bool     { return &b }

// unchanged checks that nothing about incident id moved: no new version,
// history line or access-log entry.
func unchanged(t *testing.T, fx *fixture, before store.Incident) {
	t.Helper()
	ctx := context.Background()
	now, err := fx.st.GetIncident(ctx, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.Version != before.Version || string(now.Severity) != string(before.Severity) || !now.HighRiskAt.Equal(before.HighRiskAt) {
		t.Fatalf("refused input changed the incident: %+v", now)
	}
}

func TestAssessAdjustsDecidesAndStartsTheClock(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := blasted(t, fx, incident.SourcePolicy, incident.BlastRadius{Source: "access_log", Subjects: 120, Records: 400,
			Categories: []int{1, 2}, SubjectKinds: []string{"pseudonymous"}})
		hist0, _ := fx.st.IncidentHistory(ctx, inc.ID)
		acc0, _ := fx.st.ListAccess(ctx, store.AccessQuery{Dataset: incident.Dataset, Limit: 1000})
		fx.clk.Advance(time.Hour)

		// Pre-score: DPC 2 × EI 0.5 + 0.25 = 1.25, low.
		got, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{Version: inc.Version,
			DPC: &incident.Adjustment{Value: v(3), Reason: "  a year of interaction history per person  "},
			EI:  &incident.Adjustment{Value: v(1), Reason: "the product links client ids to accounts"},
		})
		if err != nil {
			t.Fatal(err)
		}
		sev, ok := incident.SeverityOf(got)
		if !ok || sev.DPC.Pre != 2 || sev.DPC.Value != 3 || !sev.DPC.Adjusted || sev.DPC.Reason != "a year of interaction history per person" ||
			sev.DPC.AdjustedBy != manager.Name || sev.EI.Pre != 0.5 || sev.EI.Value != 1 || sev.CB.Total != 0.25 {
			t.Fatalf("stored severity: %+v", sev)
		}
		if sev.Score != 3.25 || sev.Level != incident.High || !sev.Proposed.Art33 || !sev.Proposed.Art34 || sev.Decided != nil ||
			!sev.AssessedAt.Equal(fx.clk.Now().UTC()) {
			t.Fatalf("score: %+v", sev)
		}
		if !got.HighRiskAt.IsZero() {
			t.Fatal("an assessment without a decision starts no clock")
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		acc, _ := fx.st.ListAccess(ctx, store.AccessQuery{Dataset: incident.Dataset, Limit: 1000})
		if len(hist) != len(hist0)+1 || len(acc) != len(acc0)+1 {
			t.Fatalf("history %d→%d, access log %d→%d", len(hist0), len(hist), len(acc0), len(acc))
		}
		last := hist[len(hist)-1]
		if last.Actor != manager.Name || !strings.Contains(last.Note, "dpc 2 → 3 (a year of interaction history per person)") ||
			!strings.Contains(last.Note, "SE 3.25 = DPC 3 × EI 1 + CB 0.25: high") {
			t.Fatalf("history note: %+v", last)
		}
		if e := acc[len(acc)-1]; e.Actor != manager.Name || e.Role != string(auth.IncidentManager) || !strings.Contains(e.Query, "severity assessed: high") {
			t.Fatalf("access-log entry: %+v", e)
		}

		// The decision: both articles apply; the people's clock starts.
		fx.clk.Advance(time.Minute)
		decidedAt := fx.clk.Now().UTC()
		got, err = fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{Version: got.Version,
			Decision: &incident.Decision{Art33: yes(true), Art34: yes(true), Reasoning: "accounts can be linked; a year of history"}})
		if err != nil {
			t.Fatal(err)
		}
		sev, _ = incident.SeverityOf(got)
		if sev.Decided == nil || !sev.Decided.Art33 || !sev.Decided.Art34 || sev.DecidedBy != manager.Name || !sev.DecidedAt.Equal(decidedAt) ||
			sev.DPC.Value != 3 || sev.EI.Value != 1 {
			t.Fatalf("decision kept the adjustments: %+v", sev)
		}
		if !got.HighRiskAt.Equal(decidedAt) || got.Reasoning != "accounts can be linked; a year of history" {
			t.Fatalf("incident: high risk %v reasoning %q", got.HighRiskAt, got.Reasoning)
		}
		var subjects *incident.Clock
		for _, c := range fx.svc.Clocks(got, fx.clk.Now()) {
			if c.Obligation.Name == "subjects" {
				subjects = &c
			}
		}
		if subjects == nil || !subjects.Start.Equal(decidedAt) || !subjects.Due.Equal(decidedAt.Add(72*time.Hour)) || subjects.Left != 72*time.Hour {
			t.Fatalf("the Art. 34 clock: %+v", subjects)
		}
		stored, _ := fx.st.GetIncident(ctx, inc.ID)
		if !stored.HighRiskAt.Equal(decidedAt) || stored.Version != got.Version {
			t.Fatalf("stored: %+v", stored)
		}
	})
}

func TestAssessNoNotificationKeepsTheReasoning(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := blasted(t, fx, incident.SourcePolicy, incident.BlastRadius{Categories: []int{1}, SubjectKinds: []string{"pseudonymous"}})
		got, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{
			Decision: &incident.Decision{Art33: yes(false), Art34: yes(false), Reasoning: "screen sizes read by a colleague; unlikely to result in a risk"}})
		if err != nil {
			t.Fatal(err)
		}
		sev, _ := incident.SeverityOf(got)
		if sev.Level != incident.Low || sev.Proposed.Art33 || sev.Decided == nil || sev.Decided.Art33 || !got.HighRiskAt.IsZero() ||
			got.Reasoning != "screen sizes read by a colleague; unlikely to result in a risk" {
			t.Fatalf("no notification: %+v %+v", sev, got)
		}
	})
}

func TestAssessRefusesBadInputAndChangesNothing(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := blasted(t, fx, incident.SourcePolicy, incident.BlastRadius{Categories: []int{2}, SubjectKinds: []string{"direct"}})
		cases := []struct {
			in   incident.AssessInput
			want string
		}{
			{incident.AssessInput{DPC: &incident.Adjustment{Value: v(3), Reason: "   "}}, "dpc.reason:"},
			{incident.AssessInput{DPC: &incident.Adjustment{Value: v(5), Reason: "worse"}}, "dpc.value: 5 is not on ENISA's scale"},
			{incident.AssessInput{DPC: &incident.Adjustment{Value: v(2.5), Reason: "between"}}, "dpc.value: 2.5 is not"},
			{incident.AssessInput{EI: &incident.Adjustment{Value: v(0), Reason: "anonymous"}}, "ei.value: 0 is not"},
			{incident.AssessInput{EI: &incident.Adjustment{Reason: "no value"}}, "ei.value: give the value"},
			{incident.AssessInput{Confidentiality: &incident.Adjustment{Value: v(0.75), Reason: "public"}}, "confidentiality.value"},
			{incident.AssessInput{Integrity: &incident.Adjustment{Value: v(-0.25), Reason: "x"}}, "integrity.value"},
			{incident.AssessInput{Availability: &incident.Adjustment{Value: v(1), Reason: "x"}}, "availability.value"},
			{incident.AssessInput{Malicious: &incident.Adjustment{Value: v(0.25), Reason: "x"}}, "malicious.value: 0.25 is not"},
			// A good adjustment does not pass with a bad one.
			{incident.AssessInput{DPC: &incident.Adjustment{Value: v(3), Reason: "ok"}, Malicious: &incident.Adjustment{Value: v(0.5)}}, "malicious.reason:"},
			{incident.AssessInput{Decision: &incident.Decision{Art33: yes(true), Art34: yes(false)}}, "decision.reasoning:"},
			{incident.AssessInput{Decision: &incident.Decision{Art34: yes(false), Reasoning: "x"}}, "decision.art33: say"},
			{incident.AssessInput{Decision: &incident.Decision{Art33: yes(true), Reasoning: "x"}}, "decision.art34: say"},
			{incident.AssessInput{Decision: &incident.Decision{Art33: yes(false), Art34: yes(true), Reasoning: "x"}}, "decision.art33: a breach likely"},
			{incident.AssessInput{DPC: &incident.Adjustment{Value: v(3), Reason: strings.Repeat("x", 20001)}}, "dpc.reason: at most"},
		}
		for _, c := range cases {
			_, err := fx.svc.Assess(ctx, inc.ID, manager, c.in)
			if !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want %q, got %v", c.want, err)
			}
			unchanged(t, fx, inc)
		}

		// Not a manager: forbidden, nothing written.
		auditor := incident.Actor{Name: "dpo@example.org", Role: auth.Auditor}
		if _, err := fx.svc.Assess(ctx, inc.ID, auditor, incident.AssessInput{}); !errors.Is(err, incident.ErrForbidden) {
			t.Fatalf("auditor: %v", err)
		}
		unchanged(t, fx, inc)

		// A stale version is a conflict.
		ok, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{Version: inc.Version})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{Version: inc.Version,
			DPC: &incident.Adjustment{Value: v(1), Reason: "old view"}}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale: %v", err)
		}
		unchanged(t, fx, ok)
		if sev, _ := incident.SeverityOf(ok); sev.DPC.Adjusted || sev.AssessedBy != manager.Name {
			t.Fatalf("confirmed pre-score: %+v", sev)
		}

		// Unknown incident; an ended one refuses.
		if _, err := fx.svc.Assess(ctx, 999, manager, incident.AssessInput{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		ended, err := fx.svc.Act(ctx, inc.ID, manager, incident.ActInput{Action: incident.Dismiss, Note: "a test read"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{}); !errors.Is(err, workflow.ErrRefused) {
			t.Fatalf("ended: %v", err)
		}
		unchanged(t, fx, ended)
	})
}

func TestAssessFollowsANewBlastRadiusAndWithdrawsHighRisk(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := blasted(t, fx, incident.SourcePolicy, incident.BlastRadius{Categories: []int{1}, SubjectKinds: []string{"direct"}})
		got, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{
			Malicious: &incident.Adjustment{Value: v(0.5), Reason: "the token was stolen from a laptop"},
			Decision:  &incident.Decision{Art33: yes(true), Art34: yes(true), Reasoning: "stolen, direct identifiers"}})
		if err != nil || got.HighRiskAt.IsZero() {
			t.Fatalf("%v %+v", err, got)
		}
		// The window widens: category 4 now; the stored assessment
		// follows it on the next assessment, keeping the adjustment.
		raw, _ := json.Marshal(incident.BlastRadius{Categories: []int{1, 4}, SubjectKinds: []string{"direct"}})
		got.Blast = raw
		if err := fx.st.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &got) }); err != nil {
			t.Fatal(err)
		}
		got, err = fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{
			Decision: &incident.Decision{Art33: yes(true), Art34: yes(false), Reasoning: "the token was revoked before use"}})
		if err != nil {
			t.Fatal(err)
		}
		sev, _ := incident.SeverityOf(got)
		if sev.DPC.Value != 4 || sev.CB.Malicious.Value != 0.5 || sev.CB.Malicious.Reason != "the token was stolen from a laptop" ||
			sev.Score != 4.75 || sev.Level != incident.VeryHigh || sev.Decided.Art34 {
			t.Fatalf("repriced: %+v", sev)
		}
		if !got.HighRiskAt.IsZero() {
			t.Fatal("withdrawing the high-risk decision stops the people's clock")
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		if n := hist[len(hist)-1].Note; !strings.Contains(n, "withdraws the high-risk decision") {
			t.Fatalf("history: %q", n)
		}
	})
}
