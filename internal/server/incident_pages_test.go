package server

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

// TestIncidentPagesBadInput: every mistake a person (or a hand-edited
// URL) can make on the incident pages reads as a sentence in the shell
// with the right status, never a 500, and changes nothing; every read is
// in the access log.
func TestIncidentPagesBadInput(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			ctx := context.Background()
			im := signIn(t, n, auth.IncidentManager)
			auditor := signIn(t, n, auth.Auditor)
			csrf := im.csrf()
			n.clock.Advance(time.Minute)
			offendingRead(t, n)

			// Unknown incidents and actions.
			for _, path := range []string{"/admin/incidents/999", "/admin/incidents/x", "/admin/incidents/0", "/admin/incidents/-1"} {
				st, body, _ := im.get(path)
				wants(t, path, body, "No such incident", "There is no incident with that number.")
				if st != 404 {
					t.Fatalf("%s: %d", path, st)
				}
				inShell(t, path, body)
			}
			if st, body, _ := im.postForm("/admin/incidents/1/explode", url.Values{auth.CSRFField: {csrf}, "version": {"1"}}); st != 404 ||
				!strings.Contains(plain(body), `Incidents have no action "explode".`) {
				t.Fatalf("unknown action: %d %s", st, plain(body))
			}

			// Bad filters.
			for q, want := range map[string]string{
				"state=bogus":      "Please fix the filter: unknown state (choose one from the list).",
				"source=elsewhere": "unknown source (policy, integrity, unusual or manual)",
				"before=abc":       "“before” must be an incident number",
				"before=-3":        "“before” must be an incident number",
				"state=%ff":        "unknown state",
			} {
				st, body, _ := im.get("/admin/incidents?" + q)
				wants(t, q, body, want)
				if st != 400 {
					t.Fatalf("%s: %d", q, st)
				}
				inShell(t, q, body)
			}
			// Good filters.
			for q, listed := range map[string]bool{"": true, "state=open": true, "state=detected": true, "state=closed": false,
				"source=policy": true, "source=manual": false, "before=1": false, "before=2": true} {
				st, body, _ := im.get("/admin/incidents?" + q)
				if st != 200 || strings.Contains(body, `href="/admin/incidents/1"`) != listed {
					t.Fatalf("?%s: %d, incident 1 listed: %v, want %v", q, st, !listed, listed)
				}
			}

			// The action forms: no version, a stale version, a refused
			// transition, a missing reasoning, a note that is not text.
			_, page, _ := im.get("/admin/incidents/1")
			form := actionForm(t, page, "/admin/incidents/1/assess", map[string]string{"note": "looking"})
			if form.Get("version") == "" || form.Get(auth.CSRFField) == "" {
				t.Fatalf("the assess form carries %v", form)
			}
			noVersion := url.Values{auth.CSRFField: {csrf}, "note": {"x"}}
			if st, body, _ := im.postForm("/admin/incidents/1/assess", noVersion); st != 400 ||
				!strings.Contains(plain(body), "The form did not say which version of the incident you read; nothing was done.") {
				t.Fatalf("no version: %d %s", st, plain(body))
			}
			if st, body, _ := im.postForm("/admin/incidents/1/notify_subjects", actionForm(t, page, "/admin/incidents/1/note", nil)); st != 409 ||
				!strings.Contains(plain(body), "Incident 1 is detected: “Record: the affected people were told” is not possible from there. Nothing was done") {
				t.Fatalf("refused transition: %d %s", st, plain(body))
			}
			if st, body, _ := im.postForm("/admin/incidents/1/dismiss", actionForm(t, page, "/admin/incidents/1/dismiss", nil)); st != 400 ||
				!strings.Contains(plain(body), "The note: dismiss needs the reasoning, which the register keeps (Art. 33(5)). Nothing was done.") {
				t.Fatalf("dismiss without reasoning: %d %s", st, plain(body))
			}
			if st, body, _ := im.postForm("/admin/incidents/1/note", actionForm(t, page, "/admin/incidents/1/note", map[string]string{"note": "bad \x01 byte"})); st != 400 ||
				!strings.Contains(plain(body), "The note is not valid text") {
				t.Fatalf("control character: %d %s", st, plain(body))
			}
			if st, _, h := im.postForm("/admin/incidents/1/assess", form); st != 303 || h.Get("Location") != "/admin/incidents/1?notice=assess" {
				t.Fatalf("assess: %d %v", st, h)
			}
			// The same form again, read before the change: stale, with the
			// note kept, nothing done.
			stale := actionForm(t, page, "/admin/incidents/1/note", map[string]string{"note": "typed on the old page"})
			st, body, _ := im.postForm("/admin/incidents/1/note", stale)
			wants(t, "stale", body, "Incident 1 changed since you read it; nothing was done.", "Reload the incident", "typed on the old page")
			if st != 409 {
				t.Fatalf("stale: %d", st)
			}
			hist, _ := n.srv.Store.IncidentHistory(ctx, 1)
			for _, h := range hist {
				if strings.Contains(h.Note, "typed on the old page") || strings.Contains(h.Note, "bad") {
					t.Fatalf("a refused action left a history line: %+v", h)
				}
			}
			if inc, _ := n.srv.Store.GetIncident(ctx, 1); inc.State != string(incident.Assessing) || inc.Reasoning != "" {
				t.Fatalf("after the refusals: %+v", inc)
			}

			// An auditor may not act even with a form of their own.
			if st, body, _ := auditor.postForm("/admin/incidents/1/close", url.Values{auth.CSRFField: {auditor.csrf()}, "version": {"2"}, "note": {"x"}}); st != 403 ||
				!strings.Contains(plain(body), "Not for your role") {
				t.Fatalf("auditor acts: %d %s", st, plain(body))
			}
			_, body, _ = auditor.get("/admin/incidents/1")
			if strings.Contains(body, `method="post" action="/admin/incidents/1/`) {
				t.Fatal("the auditor is shown the action forms")
			}

			// Opening by hand: bad times, the future, an unknown dataset,
			// no title; the form comes back as typed, nothing stored.
			base := url.Values{auth.CSRFField: {csrf}, "title": {"Misdirected e-mail"}, "summary": {"Sent to the wrong customer."}}
			with := func(kv ...string) url.Values {
				v := url.Values{}
				for k, vs := range base {
					v[k] = vs
				}
				for i := 0; i+1 < len(kv); i += 2 {
					v.Set(kv[i], kv[i+1])
				}
				return v
			}
			for what, c := range map[string]struct {
				form url.Values
				want string
			}{
				"bad time":   {with("leak_at", "yesterday"), "When the breach began is a date and time like"},
				"bad aware":  {with("aware_at", "2026-13-01T10:00"), "When you became aware is a date and time like"},
				"future":     {with("leak_at", "2027-01-01T00:00"), "When the breach began: the breach cannot begin in the future."},
				"order":      {with("leak_at", "2026-11-20T10:00", "aware_at", "2026-11-20T09:00"), "When you became aware: awareness cannot come before the breach began."},
				"dataset":    {with("dataset", "nope"), `The dataset: no dataset "nope" in the registry in force.`},
				"no title":   {with("title", ""), "The title: say in a few words what happened."},
				"not text":   {with("summary", "a\x00b"), "The summary is not valid text"},
				"long title": {with("title", strings.Repeat("t", 201)), "The title: at most 200 characters."},
			} {
				st, body, _ := im.postForm("/admin/incidents", c.form)
				wants(t, what, body, c.want, "Nothing was stored.")
				if st != 400 || (what != "no title" && what != "long title" && !strings.Contains(body, `value="Misdirected e-mail"`)) {
					t.Fatalf("%s: %d, form not kept", what, st)
				}
			}
			if list, _ := n.srv.Store.ListIncidents(ctx, store.IncidentQuery{}); len(list) != 1 {
				t.Fatalf("a refused form stored an incident: %d", len(list))
			}
			st, _, h := im.postForm("/admin/incidents", with("dataset", "interaction_data", "leak_at", "2026-11-20T10:00:30"))
			if st != 303 || h.Get("Location") != "/admin/incidents/2?notice=opened" {
				t.Fatalf("open: %d %v", st, h)
			}
			inc, _ := n.srv.Store.GetIncident(ctx, 2)
			if !inc.LeakAt.Equal(time.Date(2026, 11, 20, 10, 0, 30, 0, time.UTC)) || !inc.AwareAt.Equal(n.clock.Now().UTC()) || inc.Source != incident.SourceManual {
				t.Fatalf("opened: %+v", inc)
			}

			// Every read of the pages is an access-log entry of the
			// incident dataset, for incident response, by its reader.
			head, _ := n.srv.Store.AccessHead(ctx)
			reads := map[string]int{}
			_ = n.srv.Store.ScanAccess(ctx, 0, head.Seq, func(e *store.AccessEntry) error {
				if strings.HasPrefix(e.Query, "portal incident") {
					if e.Dataset != incident.Dataset || e.Purpose != "incident_response" {
						t.Errorf("portal read logged as %+v", e)
					}
					reads[e.Role+" "+strings.SplitN(e.Query, ":", 2)[0]]++
				}
				return nil
			})
			if reads["incident_manager portal incident list"] != 8 || reads["incident_manager portal incident 1"] < 5 || reads["auditor portal incident 1"] != 1 {
				t.Fatalf("portal reads in the access log: %v", reads)
			}
		})
	}
}

// TestIncidentPageShowsAssessment: a blast radius and a severity kept on
// the incident (as the assessment stores them) are shown on its page,
// read-only; a dismissed incident's clocks read as moot in the register.
func TestIncidentPageShowsAssessment(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	im := signIn(t, n, auth.IncidentManager)
	n.clock.Advance(time.Minute)
	offendingRead(t, n)
	now := n.clock.Now().UTC()
	blast := incident.BlastRadius{Credential: "external:warehouse-bob", Source: "access_log", From: now.Add(-2 * time.Hour), To: now,
		Entries: 3, Records: 41, Subjects: 17, KeysTruncated: true, Categories: []int{1, 2}, SubjectKinds: []string{"pseudonymous"}, ComputedAt: now,
		Datasets: []incident.BlastDataset{{Name: "interaction_data", Owner: "kpi-team@example.org", SubjectKind: "pseudonymous", Entries: 3, Records: 41, Subjects: 17,
			Fields: []incident.BlastField{{Name: "language", Category: 1}, {Name: "client_id", Category: 2}}}}}
	sev := incident.Severity{DPC: incident.Factor{Pre: 1, PreWhy: "categories 1-2: technical and interaction data", Value: 2, Adjusted: true,
		Reason: "the export joins to accounts", AdjustedBy: "im@example.org"},
		EI: incident.Factor{Pre: 0.25, PreWhy: "pseudonymous keyed hash", Value: 0.25}, CB: incident.CB{Confidentiality: incident.Factor{Pre: 0.25, Value: 0.25}, Total: 0.25},
		Score: 0.75, Level: "low", Proposed: incident.Applicability{Art33: false}, Decided: &incident.Applicability{Art33: true},
		DecidedBy: "im@example.org", DecidedAt: now, Reasoning: "notify anyway: the team lead asked"}
	// Stored as the assessment's code stores it: JSON on the incident.
	inc, _ := n.srv.Store.GetIncident(ctx, 1)
	inc.Blast, _ = json.Marshal(blast)
	inc.Severity, _ = json.Marshal(sev)
	inc.WindowFrom, inc.WindowTo = blast.From, blast.To
	if err := n.srv.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &inc) }); err != nil {
		t.Fatal(err)
	}
	st, body, _ := im.get("/admin/incidents/1")
	wants(t, "assessment", body, "credential external:warehouse-bob from the access log", "People affected 17 (the list of keys kept is capped; the count is exact)",
		"Records 41 in 3 access(es)", "Field categories 1, 2", "interaction_data (pseudonymous)", "language (1), client_id (2)",
		"ENISA score SE = DPC × EI + CB = 0.75 : low", "Data processing context (DPC) 1.00 categories 1-2: technical and interaction data 2.00 by im@example.org: the export joins to accounts",
		"Ease of identification (EI) 0.25 pseudonymous keyed hash 0.25 —",
		"Proposed notify the authority (Art. 33): no; tell the people (Art. 34): no",
		"Decided notify the authority: yes; tell the people: no, by im@example.org", "notify anyway: the team lead asked")
	if st != 200 || strings.Contains(body, "Not computed yet") || strings.Contains(body, "Not assessed yet") {
		t.Fatalf("assessment page: %d", st)
	}

	// Dismissed, the duties never arose: moot in the register.
	_, page, _ := im.get("/admin/incidents/1")
	if st, _, _ := im.postForm("/admin/incidents/1/dismiss", actionForm(t, page, "/admin/incidents/1/dismiss", map[string]string{"note": "a test query of the warehouse team"})); st != 303 {
		t.Fatalf("dismiss: %d", st)
	}
	_, body, _ = im.get("/admin/incidents?state=not_a_breach")
	wants(t, "moot", body, "1. Access outside policy", "Supervisory authority (Art. 33): moot: ended without the duty arising")
	_, body, _ = im.get("/admin/incidents/1")
	wants(t, "dismissed", body, "Reasoning a test query of the warehouse team", "The incident is not_a_breach: no action remains.")
}
