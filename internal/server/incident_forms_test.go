package server

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

// TestIncidentFormsBadInput: the severity, describe and communicate forms
// of an incident's page refuse a person's mistakes readably (400 naming
// the field, 409 for a stale form or a communication not yet allowed, 403
// for a reader), change nothing when they refuse, and do what they say
// otherwise; the drafts and the register export are read through portal
// routes, each read in the access log.
func TestIncidentFormsBadInput(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			ctx := context.Background()
			im := signIn(t, n, auth.IncidentManager)
			auditor := signIn(t, n, auth.Auditor)
			offendingRead(t, n)
			first, _ := n.srv.Store.GetIncident(ctx, 1)
			v0 := first.Version
			unchanged := func(what string, version int64) {
				t.Helper()
				inc, _ := n.srv.Store.GetIncident(ctx, 1)
				if inc.Version != version || len(inc.Severity) != 0 || !inc.HighRiskAt.IsZero() || inc.Consequences != "" {
					t.Fatalf("%s changed the incident: version %d (was %d), severity %s", what, inc.Version, version, inc.Severity)
				}
			}

			_, page, _ := im.get("/admin/incidents/1")
			wants(t, "forms", page, "Assess the severity", "Data processing context (DPC)", "steward's pre-score and why",
				"not known: no blast radius with field categories yet", "Describe the incident", "Send the Art. 34 communication",
				"Still missing for a complete notification to the authority (Art. 33(3))", "data: ", "The communication to the people still lacks")
			for _, opt := range []string{`<option value="1">1 simple</option>`, `<option value="4" selected>4 sensitive</option>`, `<option value="0.75">0.75 significant</option>`, `<option value="0.5">0.5 malicious</option>`} {
				if !strings.Contains(page, opt) {
					t.Fatalf("the severity form lacks %s", opt)
				}
			}
			for _, link := range []string{"/admin/incidents/1/report/authority.html", "/admin/incidents/1/report/authority.md", "/admin/incidents/1/report/authority.json", "/admin/incidents/1/communication.md"} {
				if !strings.Contains(page, `href="`+link+`"`) {
					t.Fatalf("the drafts do not link %s", link)
				}
			}
			sev := func(set map[string]string) url.Values { return actionForm(t, page, "/admin/incidents/1/severity", set) }

			// Severity: each mistake names its field; nothing changes.
			for what, c := range map[string]struct {
				form url.Values
				want string
			}{
				"no reason":     {sev(map[string]string{"dpc": "3"}), "The reason for the data processing context (DPC): an adjustment needs its reason, which the register keeps. Nothing was changed."},
				"off the scale": {sev(map[string]string{"ei": "0.6", "ei_reason": "x"}), "The value of the ease of identification (EI): 0.6 is not on ENISA's scale"},
				"not a number":  {sev(map[string]string{"malicious": "lots", "malicious_reason": "x"}), "The value of malicious intent: choose one from the list. Nothing was changed."},
				"no art34":      {sev(map[string]string{"art33": "yes", "reasoning": "r"}), "Art. 34 applies? (tell the people affected): say whether the people affected must be told"},
				"34 without 33": {sev(map[string]string{"art33": "no", "art34": "yes", "reasoning": "r"}), "Art. 33 applies? (notify the supervisory authority): a breach likely to result in a high risk"},
				"no reasoning":  {sev(map[string]string{"art33": "yes", "art34": "no"}), "The reasoning of the decision: a decision needs its reasoning, which the register keeps (Art. 33(5))."},
				"not text":      {sev(map[string]string{"dpc": "3", "dpc_reason": "a\x00b"}), "The reason for the data processing context (DPC) is not valid text"},
				"no version":    {url.Values{auth.CSRFField: {im.csrf()}, "dpc": {"3"}, "dpc_reason": {"x"}}, "The form did not say which version of the incident you read; nothing was changed."},
			} {
				st, body, _ := im.postForm("/admin/incidents/1/severity", c.form)
				wants(t, what, body, c.want)
				if st != 400 {
					t.Fatalf("%s: %d", what, st)
				}
				inShell(t, what, body)
				unchanged(what, v0)
			}
			// The refused form comes back as typed.
			_, body, _ := im.postForm("/admin/incidents/1/severity", sev(map[string]string{"dpc": "3", "art33": "yes", "reasoning": "kept text"}))
			if !strings.Contains(body, `<option value="3" selected>`) || !strings.Contains(body, "kept text") || !strings.Contains(body, `<option value="yes" selected>yes</option>`) {
				t.Fatal("the refused severity form is not drawn as typed")
			}

			// A reader is refused before anything is read.
			for _, path := range []string{"/admin/incidents/1/severity", "/admin/incidents/1/describe", "/admin/incidents/1/communicate"} {
				if st, body, _ := auditor.postForm(path, url.Values{auth.CSRFField: {auditor.csrf()}, "version": {"1"}, "dpc": {"3"}, "dpc_reason": {"x"}, "measures": {"x"}}); st != 403 ||
					!strings.Contains(plain(body), "Not for your role") {
					t.Fatalf("auditor posts %s: %d %s", path, st, plain(body))
				}
			}
			unchanged("the auditor", v0)
			_, body, _ = auditor.get("/admin/incidents/1")
			if strings.Contains(body, "<form method=\"post\" action=\"/admin/incidents/1/") || !strings.Contains(body, `href="/admin/incidents/1/report/authority.html"`) {
				t.Fatal("the auditor is shown forms, or no drafts")
			}

			// The communication before any high-risk decision: 409.
			st, body, _ := im.postForm("/admin/incidents/1/communicate", actionForm(t, page, "/admin/incidents/1/communicate", nil))
			wants(t, "communicate early", body, "The people are told only once a high risk to them was decided (Art. 34(1))", "Nothing was sent.")
			if st != 409 {
				t.Fatalf("communicate early: %d", st)
			}

			// Describe: not text, too long, no version; nothing changes.
			desc := func(set map[string]string) url.Values { return actionForm(t, page, "/admin/incidents/1/describe", set) }
			for what, c := range map[string]struct {
				form url.Values
				want string
			}{
				"not text":   {desc(map[string]string{"consequences": "a\x01b"}), "The likely consequences is not valid text"},
				"too long":   {desc(map[string]string{"measures": strings.Repeat("m", 20001)}), "The measures is too long: at most 20000 characters."},
				"no version": {url.Values{auth.CSRFField: {im.csrf()}, "measures": {"x"}}, "The form did not say which version of the incident you read"},
			} {
				st, body, _ := im.postForm("/admin/incidents/1/describe", c.form)
				wants(t, what, body, c.want)
				if st != 400 {
					t.Fatalf("describe %s: %d", what, st)
				}
				unchanged("describe "+what, v0)
			}

			// The assessment as a manager sends it: DPC raised with its
			// reason, Art. 33 and 34 decided.
			good := sev(map[string]string{"dpc": "3", "dpc_reason": "a year of browsing history per person", "art33": "yes", "art34": "yes", "reasoning": "profiles of 2 people read by a stranger"})
			if st, _, h := im.postForm("/admin/incidents/1/severity", good); st != 303 || h.Get("Location") != "/admin/incidents/1?notice=severity#severity" {
				t.Fatalf("assess: %d %v", st, h)
			}
			inc, _ := n.srv.Store.GetIncident(ctx, 1)
			stored, ok := incident.SeverityOf(inc)
			if !ok || !stored.DPC.Adjusted || stored.DPC.Value != 3 || stored.EI.Adjusted || stored.Decided == nil || !stored.Decided.Art34 || inc.HighRiskAt.IsZero() {
				t.Fatalf("assessed: %+v, high risk at %v", stored, inc.HighRiskAt)
			}
			// The same form again was read before that change: 409, nothing changed.
			st, body, _ = im.postForm("/admin/incidents/1/severity", sev(map[string]string{"ei": "1", "ei_reason": "typed on the old page"}))
			wants(t, "stale severity", body, "Incident 1 changed since you read it; nothing was changed.", "Reload the incident", "typed on the old page")
			if st != 409 {
				t.Fatalf("stale severity: %d", st)
			}
			st, _, _ = im.postForm("/admin/incidents/1/describe", desc(map[string]string{"measures": "stale"}))
			if st != 409 {
				t.Fatalf("stale describe: %d", st)
			}
			if again, _ := n.srv.Store.GetIncident(ctx, 1); again.Version != inc.Version || again.Measures != "" {
				t.Fatalf("a stale form changed the incident: %d → %d", inc.Version, again.Version)
			}
			_, page, _ = im.get("/admin/incidents/1?notice=severity")
			wants(t, "assessed page", page, "The severity assessment is recorded.", "ENISA score SE = DPC × EI + CB = 1.75 : low",
				"Affected people (Art. 34)", "72h 00m left", "by "+string(auth.IncidentManager)+"@staff.example.org: a year of browsing history per person")

			// Without a blast radius nobody is known to write to: 400.
			st, body, _ = im.postForm("/admin/incidents/1/communicate", actionForm(t, page, "/admin/incidents/1/communicate", nil))
			wants(t, "no blast radius", body, "No blast radius yet: compute it first, so steward knows who was affected. Nothing was sent.")
			if st != 400 {
				t.Fatalf("communicate without blast radius: %d", st)
			}

			// Describing; a repeat writes nothing.
			d := desc(map[string]string{"consequences": "Two people's browsing could be seen by a stranger.", "measures": "The credential was revoked."})
			if st, _, h := im.postForm("/admin/incidents/1/describe", d); st != 303 || h.Get("Location") != "/admin/incidents/1?notice=described#describe" {
				t.Fatalf("describe: %d %v", st, h)
			}
			_, page, _ = im.get("/admin/incidents/1")
			d = desc(map[string]string{"consequences": "Two people's browsing could be seen by a stranger.", "measures": "The credential was revoked."})
			if st, _, h := im.postForm("/admin/incidents/1/describe", d); st != 303 || h.Get("Location") != "/admin/incidents/1?notice=described-same#describe" {
				t.Fatalf("describe again: %d %v", st, h)
			}

			// A blast radius of two people nobody has a contact for: the
			// communication tells nobody and says a public one is needed.
			inc, _ = n.srv.Store.GetIncident(ctx, 1)
			blast := incident.BlastRadius{Credential: "warehouse-bob", Source: "access_log", From: inc.AwareAt.Add(-2 * 3600e9), To: inc.AwareAt,
				Entries: 1, Records: 2, Subjects: 2, SubjectKeys: []string{"k1", "k2"}, Categories: []int{2}, SubjectKinds: []string{"pseudonymous"}, ComputedAt: inc.AwareAt,
				Datasets: []incident.BlastDataset{{Name: "interaction_data", Owner: "kpi-team@example.org", SubjectKind: "pseudonymous", Entries: 1, Records: 2, Subjects: 2,
					Fields: []incident.BlastField{{Name: "client_id", Category: 2}}}}}
			inc.Blast, _ = json.Marshal(blast)
			if err := n.srv.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpdateIncident(ctx, &inc) }); err != nil {
				t.Fatal(err)
			}
			_, page, _ = im.get("/admin/incidents/1")
			// The form starts from what Assess would: the pre-scores follow
			// the new blast radius, the adjustment stays.
			wants(t, "repriced form", page, "2.00: category 2 (interaction) is the highest reached", "3.00 (adjusted by")
			st, body, _ = im.postForm("/admin/incidents/1/communicate", actionForm(t, page, "/admin/incidents/1/communicate", nil))
			wants(t, "communicated", body, "The Art. 34 communication went to 0 people by e-mail. 2 affected people have no contact known: a public communication is needed (Art. 34(3)(c)).",
				"told 0 people by e-mail (Art. 34); 2 affected people have no contact known")
			if st != 200 {
				t.Fatalf("communicate: %d", st)
			}
			// Sent again from the same page: stale, nothing sent twice.
			if st, _, _ := im.postForm("/admin/incidents/1/communicate", actionForm(t, page, "/admin/incidents/1/communicate", nil)); st != 409 {
				t.Fatalf("communicate from a stale page: %d", st)
			}

			// The drafts, for the auditor too, through the portal.
			for _, c := range []struct{ path, ct, has string }{
				{"/admin/incidents/1/report/authority.html", "text/html; charset=utf-8", "dpo@example.org"},
				{"/admin/incidents/1/report/authority.md", "text/markdown; charset=utf-8", "Two people's browsing could be seen by a stranger."},
				{"/admin/incidents/1/report/authority.json", "application/json", `"likely_consequences": "Two people's browsing could be seen by a stranger."`},
				{"/admin/incidents/1/communication.md", "text/markdown; charset=utf-8", "The credential was revoked."},
				{"/admin/incidents/register.csv?state=open", "text/csv; charset=utf-8", "Access outside policy"},
				{"/admin/incidents/register.json?source=policy", "application/json", `"title": "Access outside policy`},
			} {
				st, body, h := auditor.get(c.path)
				if st != 200 || h.Get("Content-Type") != c.ct || !strings.Contains(htmlUnescape(body), c.has) {
					t.Fatalf("GET %s: %d %s\n%.2000s", c.path, st, h.Get("Content-Type"), body)
				}
			}
			if _, _, h := auditor.get("/admin/incidents/1/report/authority.html"); !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Fatalf("the printable page's policy: %v", h)
			}
			if _, _, h := auditor.get("/admin/incidents/register.csv"); !strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="incident-register-`) {
				t.Fatalf("the register download: %v", h)
			}
			if _, body, _ := auditor.get("/admin/incidents/register.csv?state=closed"); strings.Contains(body, "Access outside policy") {
				t.Fatal("the register export ignores its filter")
			}
			for _, path := range []string{"/admin/incidents/77/report/authority.html", "/admin/incidents/x/communication.md"} {
				if st, body, _ := auditor.get(path); st != 404 || !strings.Contains(body, "No such incident") {
					t.Fatalf("%s: %d", path, st)
				}
			}
			st, body, _ = auditor.get("/admin/incidents/register.csv?state=bogus")
			wants(t, "bad export filter", body, "Unknown state (choose one from the register's list). Nothing was exported.")
			if st != 400 {
				t.Fatalf("bad export filter: %d", st)
			}
			_, body, _ = im.get("/admin/incidents?state=open&source=policy")
			if !strings.Contains(body, `href="/admin/incidents/register.csv?source=policy&amp;state=open"`) || !strings.Contains(body, `href="/admin/incidents/register.json?source=policy&amp;state=open"`) {
				t.Fatal("the register's download links do not keep the filter")
			}

			// Each read is an access-log entry of the incident dataset.
			head, _ := n.srv.Store.AccessHead(ctx)
			reads := map[string]int{}
			_ = n.srv.Store.ScanAccess(ctx, 0, head.Seq, func(e *store.AccessEntry) error {
				if e.Dataset == incident.Dataset && e.Purpose == "incident_response" && e.Role == string(auth.Auditor) {
					reads[e.Query]++
				}
				return nil
			})
			for _, q := range []string{"portal incident 1 authority report (html)", "portal incident 1 authority report (markdown)", "portal incident 1 authority report (json)",
				"portal incident 1 communication (markdown)", "portal incident register (csv): state=open", "portal incident register (json): source=policy"} {
				if reads[q] == 0 {
					t.Errorf("no access-log entry %q: %v", q, reads)
				}
			}
		})
	}
}
