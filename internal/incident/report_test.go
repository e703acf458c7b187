package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

var (
	imActor = incident.Actor{Name: "im@example.org", Role: auth.IncidentManager, Method: "token", Credential: "tok-im"}
	auditor = incident.Actor{Name: "auditor@example.org", Role: auth.Auditor, Method: "token", Credential: "tok-au"}
)

func ptr(s string) *string { return &s }

// openLaptop opens an incident by hand: a lost laptop with an export of
// interaction_data on it.
func openLaptop(t *testing.T, fx *fixture, title string) store.Incident {
	t.Helper()
	inc, err := fx.svc.OpenByHand(context.Background(), imActor, incident.OpenInput{Title: title,
		Summary: "A laptop holding an export of sign-in timings was left on a train.", Dataset: "interaction_data",
		LeakAt: t0.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// assess writes a blast radius and a severity onto the incident, as the
// assessment code would.
func assess(t testing.TB, fx *fixture, id int64, b *incident.BlastRadius, s *incident.Severity) store.Incident {
	t.Helper()
	ctx := context.Background()
	inc, err := fx.st.GetIncident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if b != nil {
		inc.Blast, _ = json.Marshal(b)
	}
	if s != nil {
		inc.Severity, _ = json.Marshal(s)
	}
	if err := fx.st.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &inc) }); err != nil {
		t.Fatal(err)
	}
	return inc
}

func blast(keys ...string) *incident.BlastRadius {
	return &incident.BlastRadius{Dataset: "interaction_data", Source: "access_log", From: t0.Add(-3 * time.Hour), To: t0,
		Entries: 12, Records: 340, Subjects: int64(len(keys)), SubjectKeys: keys,
		Datasets: []incident.BlastDataset{{Name: "interaction_data", Owner: "kpi-team@example.org", SubjectKind: "pseudonymous",
			Entries: 12, Records: 340, Subjects: int64(len(keys)),
			Fields: []incident.BlastField{{Name: "dialog_ms", Category: 2}, {Name: "client_id", Category: 1}, {Name: "os", Category: 1}}}},
		Categories: []int{1, 2}, SubjectKinds: []string{"pseudonymous"}, ComputedAt: t0}
}

func severity(art34 bool) *incident.Severity {
	return &incident.Severity{Score: 3.25, Level: "high", Proposed: incident.Applicability{Art33: true, Art34: true},
		Decided: &incident.Applicability{Art33: true, Art34: art34}, DecidedBy: "im@example.org", DecidedAt: t0,
		Reasoning: "timings of identifiable sign-ins"}
}

func hasPrefix(list []string, p string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func TestAuthorityReportIsPhasedUntilEveryElementIsKnown(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := openLaptop(t, fx, "Laptop with an export lost")
		rep, err := fx.svc.AuthorityReport(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Phase != "phased" || rep.Data != nil || rep.Severity != nil {
			t.Fatalf("first report: %+v", rep)
		}
		for _, el := range []string{"data:", "likely_consequences:", "measures:", "severity:"} {
			if !hasPrefix(rep.Unknown, el) {
				t.Errorf("unknown %q not listed: %q", el, rep.Unknown)
			}
		}
		// The controller and the DPO come from the registry.
		if rep.Controller != (incident.ReportController{Name: "Example Ltd", Contact: "privacy@example.org", DPO: "dpo@example.org"}) {
			t.Fatalf("controller: %+v", rep.Controller)
		}
		md := rep.Markdown()
		if !strings.Contains(md, "Phased notification (Art. 33(4))") || !strings.Contains(md, "## Not known yet") ||
			strings.Count(md, "_Not known yet; to be supplemented (Art. 33(4))._") != 4 {
			t.Fatalf("phased markdown:\n%s", md)
		}

		// Supplemented: the blast radius, the severity, the text.
		assess(t, fx, inc.ID, blast("k1", "k2", "k3"), severity(false))
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{
			Consequences: ptr("  Someone could learn how long people took to sign in.  "),
			Measures:     ptr("The laptop's disk is encrypted; its key was revoked remotely.")}); err != nil {
			t.Fatal(err)
		}
		fx.clk.Advance(time.Hour)
		rep, err = fx.svc.AuthorityReport(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Phase != "complete" || len(rep.Unknown) != 0 {
			t.Fatalf("complete report: %s %q", rep.Phase, rep.Unknown)
		}
		if rep.Data.Subjects != 3 || rep.Data.Records != 340 || len(rep.Data.SubjectCategories) != 1 ||
			rep.Data.SubjectCategories[0].Dataset != "interaction_data" || rep.Data.SubjectCategories[0].Description == "" {
			t.Fatalf("data: %+v", rep.Data)
		}
		if len(rep.Data.Categories) != 2 || rep.Data.Categories[0].Name != "technical" ||
			strings.Join(rep.Data.Categories[0].Fields, ",") != "interaction_data.client_id,interaction_data.os" ||
			rep.Data.Categories[1].Name != "interaction" {
			t.Fatalf("categories: %+v", rep.Data.Categories)
		}
		if rep.Consequences != "Someone could learn how long people took to sign in." || rep.Severity.Level != "high" ||
			rep.Severity.Decided == nil || rep.Severity.Decided.Art34 {
			t.Fatalf("text and severity: %+v %+v", rep, rep.Severity)
		}
		if !rep.Timing.Due.Equal(t0.Add(72*time.Hour)) || rep.Timing.Late || !rep.Nature.LeakAt.Equal(t0.Add(-2*time.Hour)) ||
			!rep.GeneratedAt.Equal(t0.Add(time.Hour)) || rep.Version <= inc.Version {
			t.Fatalf("timing: %+v generated %s version %d", rep.Timing, rep.GeneratedAt, rep.Version)
		}
		md = rep.Markdown()
		for _, want := range []string{
			"# Notification of a personal data breach (GDPR Art. 33)",
			"Every element of Art. 33(3) is given.",
			"- Data protection officer: dpo@example.org",
			"**Laptop with an export lost**",
			"- Breach began (t_l): 2026-11-22 10:00:00 UTC",
			"- Controller became aware: 2026-11-22 12:00:00 UTC",
			"- Approximate number of people: 3\n- Approximate number of records: 340",
			"- technical data (about devices and software): interaction_data.client_id, interaction_data.os",
			"- interaction data (how the product was used): interaction_data.dialog_ms",
			"## Likely consequences (Art. 33(3)(c))\n\nSomeone could learn how long people took to sign in.",
			"## Measures taken or proposed (Art. 33(3)(d))\n\nThe laptop's disk is encrypted",
			"- Level (ENISA): high (score 3.25)",
			"- Decided: Art. 33 applies, Art. 34 does not apply (by im@example.org, 2026-11-22 12:00:00 UTC)",
			"- Due (72 hours after awareness): 2026-11-25 12:00:00 UTC",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q", want)
			}
		}
		if strings.Contains(md, "Not known yet") {
			t.Errorf("complete markdown still says something is unknown:\n%s", md)
		}
		if again, _ := fx.svc.AuthorityReport(ctx, inc.ID); again.Markdown() != md {
			t.Error("the same report renders differently")
		}

		// The JSON shape a portal or an authority's form reads.
		raw, _ := json.Marshal(rep)
		var shape map[string]any
		json.Unmarshal(raw, &shape)
		for _, k := range []string{"incident", "incident_version", "generated_at", "phase", "controller", "nature", "data",
			"likely_consequences", "measures", "severity", "timing", "unknown"} {
			if _, ok := shape[k]; !ok {
				t.Errorf("json lacks %q: %s", k, raw)
			}
		}
		data := shape["data"].(map[string]any)
		if data["subjects"] != 3.0 || data["records"] != 340.0 || shape["unknown"] == nil {
			t.Errorf("json data: %s", raw)
		}
	})
}

func TestAuthorityReportLateNeedsReasonsAndRegistryWithoutDPO(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		noDPO := bytes.Replace(registry.DefaultYAML, []byte(", dpo: dpo@example.org"), nil, 1)
		if bytes.Equal(noDPO, registry.DefaultYAML) {
			t.Fatal("the default registry's controller line changed; adjust the test")
		}
		if _, _, err := fx.reg.Publish(ctx, noDPO, "v2", registry.Approval{By: "test"}); err != nil {
			t.Fatal(err)
		}
		inc := openLaptop(t, fx, "Misdirected e-mail")
		fx.clk.Advance(73 * time.Hour)
		rep, _ := fx.svc.AuthorityReport(ctx, inc.ID)
		if !rep.Timing.Late || !hasPrefix(rep.Unknown, "delay_reasons:") || !hasPrefix(rep.Unknown, "dpo: the registry's controller section names no DPO") {
			t.Fatalf("late report: %+v %q", rep.Timing, rep.Unknown)
		}
		if rep.Controller.DPO != "" || rep.Controller.Contact != "privacy@example.org" {
			t.Fatalf("controller: %+v", rep.Controller)
		}
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Delay: ptr("The laptop's loss was reported to us three days late.")}); err != nil {
			t.Fatal(err)
		}
		rep, _ = fx.svc.AuthorityReport(ctx, inc.ID)
		if rep.Timing.DelayReasons != "The laptop's loss was reported to us three days late." || hasPrefix(rep.Unknown, "delay_reasons:") {
			t.Fatalf("reasons: %+v %q", rep.Timing, rep.Unknown)
		}
		if md := rep.Markdown(); !strings.Contains(md, "**Late:** reasons for the delay: The laptop's loss was reported to us three days late.") ||
			!strings.Contains(md, "- Data protection officer: _Not known yet") {
			t.Fatalf("markdown:\n%s", md)
		}
	})
}

func TestReportPagesEscapeWhatPeopleWrote(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := openLaptop(t, fx, `<script>alert("x")</script> lost`)
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Consequences: ptr("# heading\n<img src=x onerror=alert(1)>")}); err != nil {
			t.Fatal(err)
		}
		rep, _ := fx.svc.AuthorityReport(ctx, inc.ID)
		page, err := rep.HTML()
		if err != nil {
			t.Fatal(err)
		}
		html := string(page)
		if strings.Contains(html, "<script") || strings.Contains(html, "<img") {
			t.Fatalf("unescaped markup in the page:\n%s", html)
		}
		for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; lost", "&lt;img src=x onerror=alert(1)&gt;",
			"@media print", "Phased notification (Art. 33(4))", "dpo@example.org"} {
			if !strings.Contains(html, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		md := rep.Markdown()
		if strings.Contains(md, "<script") || strings.Contains(md, "\n# heading") || !strings.Contains(md, `\# heading`) {
			t.Fatalf("markdown:\n%s", md)
		}
	})
}

func TestDescribeValidatesAndRecords(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := openLaptop(t, fx, "Laptop lost")
		cases := []struct {
			who  incident.Actor
			in   incident.DescribeInput
			want error
			say  string
		}{
			{auditor, incident.DescribeInput{Measures: ptr("x")}, incident.ErrForbidden, "auditor"},
			{imActor, incident.DescribeInput{}, incident.ErrInvalid, "give consequences, measures or delay_reasons"},
			{imActor, incident.DescribeInput{Measures: ptr(strings.Repeat("m", incident.MaxDescription+1))}, incident.ErrInvalid, "measures: at most 20000"},
			{imActor, incident.DescribeInput{Consequences: ptr("bad \xff")}, incident.ErrInvalid, "consequences: not valid UTF-8"},
			{imActor, incident.DescribeInput{Delay: ptr("  ")}, incident.ErrInvalid, "delay_reasons: say why"},
			{imActor, incident.DescribeInput{Measures: ptr("x"), Version: inc.Version + 5}, store.ErrConflict, ""},
		}
		for _, c := range cases {
			_, err := fx.svc.Describe(ctx, inc.ID, c.who, c.in)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Errorf("%+v: %v, want %v saying %q", c.in, err, c.want, c.say)
			}
		}
		if got, _ := fx.st.GetIncident(ctx, inc.ID); got.Version != inc.Version || got.Measures != "" {
			t.Fatalf("bad input changed the incident: %+v", got)
		}
		got, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Measures: ptr("Remote wipe sent."), Version: inc.Version})
		if err != nil || got.Measures != "Remote wipe sent." || got.Consequences != "" {
			t.Fatalf("describe: %+v %v", got, err)
		}
		// A repeat changes nothing and writes no history line.
		if again, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Measures: ptr("Remote wipe sent.")}); err != nil || again.Version != got.Version {
			t.Fatalf("repeat: %+v %v", again, err)
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		last := hist[len(hist)-1]
		if last.Actor != "im@example.org" || last.Note != "measures taken or proposed (Art. 33(3)(d)): Remote wipe sent." ||
			strings.Contains(hist[len(hist)-2].Note, "measures") {
			t.Fatalf("history: %+v", hist)
		}
		if n := logged(t, fx, "described for the reports"); n != 1 {
			t.Fatalf("access-log entries of the description: %d", n)
		}
	})
}

// logged counts @incidents access-log entries whose query has what.
func logged(t *testing.T, fx *fixture, what string) int {
	t.Helper()
	ctx := context.Background()
	head, err := fx.st.AccessHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	fx.st.ScanAccess(ctx, 0, head.Seq, func(e *store.AccessEntry) error {
		if e.Dataset == incident.Dataset && strings.Contains(e.Query, what) {
			n++
		}
		return nil
	})
	return n
}
