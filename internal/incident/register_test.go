package incident_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

func TestRegisterKeepsEveryIncidentWithItsFactsEffectsAndDecisions(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		lost, err := fx.svc.OpenByHand(ctx, manager, incident.OpenInput{Title: "=HYPERLINK(\"http://evil\")", Summary: "laptop lost on a train",
			Dataset: "interaction_data", LeakAt: t0.Add(-2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		fx.clk.Advance(time.Hour)
		mail, err := fx.svc.OpenByHand(ctx, manager, incident.OpenInput{Title: "misdirected e-mail", Summary: "one export sent to the wrong address"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Act(ctx, mail.ID, manager, incident.ActInput{Action: incident.Dismiss, Note: "the address was our own second mailbox"}); err != nil {
			t.Fatal(err)
		}
		// The assessment as the blast radius and severity code store it.
		blast, _ := json.Marshal(incident.BlastRadius{Source: "access_log", Subjects: 42, Records: 420, Categories: []int{1, 2},
			Datasets: []incident.BlastDataset{{Name: "interaction_data", Subjects: 42, Records: 420}}})
		sev, _ := json.Marshal(incident.Severity{Score: 2.5, Level: "medium", Decided: &incident.Applicability{Art33: true}})
		err = fx.st.InTx(ctx, func(tx store.Tx) error {
			i, err := fx.st.GetIncident(ctx, lost.ID)
			if err != nil {
				return err
			}
			i.Blast, i.Severity, i.Measures, i.Consequences = blast, sev, "remote wipe; disk was encrypted", "little: data unreadable without the key"
			return tx.UpdateIncident(ctx, &i)
		})
		if err != nil {
			t.Fatal(err)
		}

		reg, err := fx.svc.Register(ctx, incident.RegisterQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(reg.Incidents) != 2 || reg.Incidents[0].ID != lost.ID || reg.Incidents[1].ID != mail.ID {
			t.Fatalf("register holds %d incidents, oldest first expected: %+v", len(reg.Incidents), reg.Incidents)
		}
		first, second := reg.Incidents[0], reg.Incidents[1]
		if first.People == nil || *first.People != 42 || *first.Records != 420 || first.SeverityLevel != "medium" ||
			first.Decided == nil || !first.Decided.Art33 || first.Measures == "" || !slices.Equal(first.Datasets, []string{"interaction_data"}) {
			t.Fatalf("effects and decisions missing: %+v", first)
		}
		if second.People != nil || second.State != string(incident.NotABreach) || second.Reasoning != "the address was our own second mailbox" ||
			second.ClosedAt.IsZero() || len(second.Timeline) < 2 {
			t.Fatalf("a dismissed incident stays with its reasoning: %+v", second)
		}

		var buf bytes.Buffer
		if err := reg.Write(&buf, incident.RegisterCSV); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || !slices.Equal(rows[0], incident.RegisterCSVHeader) {
			t.Fatalf("csv: %d rows, header %v", len(rows), rows[0])
		}
		col := func(row []string, name string) string { return row[slices.Index(incident.RegisterCSVHeader, name)] }
		if got := col(rows[1], "title"); got != "'=HYPERLINK(\"http://evil\")" {
			t.Errorf("a formula in a title must not run in a spreadsheet: %q", got)
		}
		if col(rows[1], "people_affected") != "42" || col(rows[1], "art33_decided") != "yes" || col(rows[1], "art34_decided") != "no" {
			t.Errorf("csv effects: %v", rows[1])
		}
		if col(rows[2], "people_affected") != "" || !strings.Contains(col(rows[2], "timeline"), "dismiss: the address was our own second mailbox") {
			t.Errorf("csv: unknown effects stay empty and decisions stay: %q / %q", col(rows[2], "people_affected"), col(rows[2], "timeline"))
		}

		buf.Reset()
		if err := reg.Write(&buf, incident.RegisterJSON); err != nil {
			t.Fatal(err)
		}
		var back incident.Register
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Incidents) != 2 || back.Incidents[1].Reasoning == "" {
			t.Fatalf("json round trip: %v %+v", err, back)
		}
		if err := reg.Write(&buf, "xml"); err == nil {
			t.Fatal("an unknown format is refused")
		}

		only, err := fx.svc.Register(ctx, incident.RegisterQuery{States: []string{string(incident.NotABreach)}})
		if err != nil || len(only.Incidents) != 1 || only.Incidents[0].ID != mail.ID {
			t.Fatalf("filter by state: %v %+v", err, only.Incidents)
		}
	})
}
