package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

var manager = incident.Actor{Name: "im@example.org", Role: auth.IncidentManager, Method: "password", Credential: "s1"}

func TestClocksWarnThenEscalateOnceEach(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.svc.Obligations = append(incident.DefaultObligations,
			incident.Obligation{Name: "controller", Start: incident.FromLeak, MaxNP: time.Hour, Done: "owner_notified"})
		inc, err := fx.svc.OpenByHand(ctx, manager, incident.OpenInput{Title: "Laptop lost on a train", Dataset: "interaction_data",
			LeakAt: t0.Add(-3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		clocks := fx.svc.Clocks(inc, fx.clk.Now())
		if c := clocks[0]; c.Obligation.Name != "authority" || !c.Due.Equal(t0.Add(72*time.Hour)) || c.Late {
			t.Fatalf("authority clock: %+v", c)
		}
		if c := clocks[1]; !c.Start.IsZero() {
			t.Fatalf("people's clock started before a high-risk decision: %+v", c)
		}
		// t_n - t_l = 3 h > 1 h: the controller was told late.
		if c := clocks[2]; !c.Late || !c.Met.Equal(t0) {
			t.Fatalf("controller clock: %+v", c)
		}
		tick := func() {
			t.Helper()
			if err := fx.svc.TickClocks(ctx); err != nil {
				t.Fatal(err)
			}
			if err := fx.svc.TickClocks(ctx); err != nil {
				t.Fatal(err)
			}
		}
		subjects := func() []string {
			msgs, _ := fx.st.ListOutbox(ctx, "incident:", 100)
			var out []string
			for _, m := range msgs {
				if m.To == "im@example.org" {
					out = append(out, m.Subject)
				}
			}
			return out
		}
		tick()
		if got := subjects(); len(got) != 2 || !strings.Contains(got[1], "controller notification was made at") {
			t.Fatalf("after open: %q", got)
		}
		fx.clk.Advance(49 * time.Hour)
		tick()
		fx.clk.Advance(18 * time.Hour)
		tick()
		fx.clk.Advance(6 * time.Hour)
		tick()
		got := subjects()
		if len(got) != 5 || !strings.Contains(got[2], "less than 24h0m0s left") || !strings.Contains(got[3], "less than 6h0m0s left") ||
			!strings.Contains(got[4], "authority notification is overdue") {
			t.Fatalf("notices: %q", got)
		}
		h, _ := fx.st.IncidentHistory(ctx, inc.ID)
		if len(h) < 6 {
			t.Fatalf("history: %+v", h)
		}
	})
}

func TestActionsFollowTheTableAndNeedReasons(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc, err := fx.svc.OpenByHand(ctx, manager, incident.OpenInput{Title: "Mail to the wrong list"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, manager, incident.ActInput{Action: incident.NotifyAuthority}); !errors.Is(err, workflow.ErrRefused) {
			t.Fatalf("notify from detected: %v", err)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, manager, incident.ActInput{Action: incident.Dismiss}); !errors.Is(err, incident.ErrInvalid) {
			t.Fatalf("dismiss without reasons: %v", err)
		}
		auditor := incident.Actor{Name: "dpo@example.org", Role: auth.Auditor}
		if _, err := fx.svc.Act(ctx, inc.ID, auditor, incident.ActInput{Action: incident.Assess}); !errors.Is(err, incident.ErrForbidden) {
			t.Fatalf("auditor acting: %v", err)
		}
		for _, a := range []incident.ActInput{{Action: incident.Assess}, {Action: incident.HighRisk, Note: "health data of 40 people"},
			{Action: incident.NotifyAuthority, Note: "report sent"}, {Action: incident.NotifySubjects, Note: "letters sent"}, {Action: incident.Close}} {
			fx.clk.Advance(time.Hour)
			if inc, err = fx.svc.Act(ctx, inc.ID, manager, a); err != nil {
				t.Fatalf("%s: %v", a.Action, err)
			}
		}
		if inc.State != string(incident.Closed) || !inc.HighRiskAt.Equal(t0.Add(2*time.Hour)) || !inc.AuthorityNotifiedAt.Equal(t0.Add(3*time.Hour)) ||
			!inc.SubjectsNotifiedAt.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("closed: %+v", inc)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, manager, incident.ActInput{Action: incident.HighRisk, Note: "late thought"}); !errors.Is(err, workflow.ErrRefused) {
			t.Fatalf("a high-risk decision on a closed incident: %v", err)
		}
		// Every action is an access-log entry.
		head, _ := fx.st.AccessHead(ctx)
		var n int
		fx.st.ScanAccess(ctx, 0, head.Seq, func(e *store.AccessEntry) error {
			if e.Dataset == incident.Dataset && e.Actor == manager.Name {
				n++
			}
			return nil
		})
		if n != 6 {
			t.Fatalf("%d access-log entries by the manager, want 6", n)
		}
	})
}
