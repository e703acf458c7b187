package server

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store"
)

// offendingRead appends a read the built-in policy would refuse (an
// analyst reading interaction_data for marketing) as if it had been let
// through below steward, and lets the monitor check the log.
func offendingRead(t *testing.T, n *node) {
	t.Helper()
	ctx := context.Background()
	e := &store.AccessEntry{At: n.clock.Now().UTC(), Actor: "bob@staff.example.org", AuthMethod: "external", CredentialID: "warehouse-bob",
		Role: string(auth.Analyst), Purpose: "marketing", Dataset: "interaction_data", Query: "events", Records: 2,
		SubjectKeys: []string{"k1", "k2"}, Decision: accesslog.Allowed, Reason: "reported"}
	if err := n.srv.Access.Append(ctx, e); err != nil {
		t.Fatal(err)
	}
	n.clock.Advance(time.Hour)
	if _, err := n.srv.Monitor.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if list, err := n.srv.Store.ListIncidents(ctx, store.IncidentQuery{}); err != nil || len(list) != 1 {
		t.Fatalf("the monitor opened %d incidents (%v), want 1", len(list), err)
	}
}

var incidentLink = regexp.MustCompile(`https?://\S+/admin/incidents/\d+`)

// TestIncidentsInChromium is the incident manager's path in real
// Chromium: the monitor opens an incident, the detection e-mail's link
// leads to its page, the clocks count as time passes, the manager
// assesses it with a note, is told readably that closing needs the
// reasoning, and opens a second incident by hand; an auditor reads both
// without a form; an analyst is refused with a readable page.
func TestIncidentsInChromium(t *testing.T) {
	started := time.Now()
	b := tab{t, chromium(t)}
	b.do(chromedp.EmulateViewport(1280, 900))
	shot := screenshots(t, b)
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	base := n.http.URL
	const (
		manager = "im@staff.example.org"
		auditor = "dpo@staff.example.org"
		analyst = "analyst@staff.example.org"
	)
	addUser(t, n, manager, auth.IncidentManager)
	addUser(t, n, auditor, auth.Auditor)
	addUser(t, n, analyst, auth.Analyst)
	n.clock.Advance(time.Minute)
	offendingRead(t, n)

	// 1. The detection e-mail links to the incident's page; following it
	// asks for a sign-in and comes back.
	msgs, err := n.srv.Store.ListOutbox(ctx, "incident:1", 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("detection mail: %v %v", msgs, err)
	}
	link := incidentLink.FindString(msgs[0].Body)
	u, err := url.Parse(link)
	if link == "" || err != nil || u.Path != "/admin/incidents/1" {
		t.Fatalf("the detection mail links to %q:\n%s", link, msgs[0].Body)
	}
	b.open(base + u.Path)
	if st := b.signIn(manager); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	b.shows("from the e-mail", "Incident 1: Access outside policy by bob@staff.example.org", "detected", "policy",
		"interaction_data", "Supervisory authority (Art. 33)", "72h 00m left", "not started: runs from the high-risk decision",
		"Not computed yet.", "Not assessed yet.", "Start the assessment", `purpose "marketing"`)

	// 2. The register lists it with its clock, which counts as time
	// passes (the injected clock; a session lasts 8 hours, so the late
	// clock is shown on the incident opened by hand below).
	b.open(base + "/admin/incidents")
	b.shows("register", "Incidents", "1. Access outside policy", "72h 00m left", "Open an incident")
	n.clock.Advance(30 * time.Minute)
	b.open(base + "/admin/incidents")
	b.shows("30 minutes later", "71h 30m left")
	shot("incident-list", "")

	// 3. The manager opens it and starts the assessment with a note.
	if st := b.press(`a[href="/admin/incidents/1"]`); st != 200 {
		t.Fatalf("open: %d", st)
	}
	b.fill(map[string]string{"note-assess": "Asked the warehouse team whose query this was."})
	if st := b.press(`#act-assess button[type=submit]`); st != 200 {
		t.Fatalf("assess: %d", st)
	}
	b.shows("assessed", "The assessment has started.", "detected → assessing", "Asked the warehouse team whose query this was.", manager)

	// 4. Closing from the assessment needs the reasoning: a readable
	// refusal, nothing done.
	if st := b.press(`#act-close button[type=submit]`); st != 400 {
		t.Fatalf("close without a note: %d", st)
	}
	b.shows("refused", "The note: close needs the reasoning, which the register keeps (Art. 33(5)). Nothing was done.", "assessing")
	if inc, _ := n.srv.Store.GetIncident(ctx, 1); inc.State != "assessing" {
		t.Fatalf("after the refusal: %s", inc.State)
	}

	// 5. A second incident, opened by hand: a laptop lost three days
	// ago and only reported now, so the authority's deadline (72 hours
	// from awareness) has passed by an hour.
	b.open(base + "/admin/incidents")
	if st := b.press(`a[href="/admin/incidents/new"]`); st != 200 {
		t.Fatalf("new: %d", st)
	}
	b.shows("form", "Open an incident", "in UTC")
	b.fill(map[string]string{"title": "Laptop lost on the train", "summary": "An unencrypted laptop with a support export.",
		"dataset": "interaction_data", "leak_at": "2026-11-19T12:00", "aware_at": "2026-11-19T13:05"})
	if st := b.press(`form[action="/admin/incidents"] button[type=submit]`); st != 200 {
		t.Fatalf("open by hand: %d", st)
	}
	b.shows("opened", "The incident is opened", "Incident 2: Laptop lost on the train", "manual", "19 Nov 2026, 12:00 UTC",
		"19 Nov 2026, 13:05 UTC", "late by 1h 00m", "None: the incident was opened by hand.")
	if cls := eval[string](b, `document.querySelector('[data-obligation="authority"]').parentElement.className`); cls != "overdue" {
		t.Fatalf("the late clock is not marked: %q", cls)
	}
	shot("incident-page", "")
	if loc, _ := url.Parse(b.location()); loc.Path != "/admin/incidents/2" {
		t.Fatalf("after opening: at %s", b.location())
	}
	if os.Getenv("STEWARD_SCREENSHOTS") != "" {
		b.do(chromedp.EmulateViewport(390, 844))
		shot("incident-page-phone", "")
		b.open(base + "/admin/incidents")
		shot("incident-list-phone", "")
		b.do(chromedp.EmulateViewport(1280, 900))
	}
	b.signOut()

	// 6. An auditor (a DPO signs in as one) reads the register and the
	// incident, with no form to act.
	b.open(base + "/admin/incidents")
	if st := b.signIn(auditor); st != 200 {
		t.Fatalf("auditor signs in: %d", st)
	}
	page := b.shows("auditor's register", "Laptop lost on the train", "Access outside policy")
	if strings.Contains(page, "Open an incident") {
		t.Fatal("the auditor is offered to open an incident")
	}
	if st := b.press(`a[href="/admin/incidents/1"]`); st != 200 {
		t.Fatalf("auditor opens: %d", st)
	}
	b.shows("auditor reads", "You read this incident; incident managers act on it.", "Asked the warehouse team")
	if forms := eval[int](b, `document.querySelectorAll('form[action^="/admin/incidents"]').length`); forms != 0 {
		t.Fatalf("the auditor sees %d action forms", forms)
	}
	if st := b.open(base + "/admin/incidents/new"); st != 403 {
		t.Fatalf("auditor opens the form: %d", st)
	}
	b.shows("auditor refused", "Not for your role")
	b.signOut()

	// 7. An analyst has no business here: a readable 403 page.
	b.open(base + "/admin/incidents")
	if st := b.signIn(analyst); st != 403 {
		t.Fatalf("analyst: %d", st)
	}
	page = b.shows("analyst refused", "Not for your role", "may not use this page")
	if strings.Contains(page, "Laptop") {
		t.Fatal("the refusal shows incidents")
	}
	t.Logf("walked through in %s", time.Since(started).Round(time.Millisecond))
}

// TestIncidentAssessmentInChromium is the assessment in real Chromium: a
// manager raises the data processing context and the ease of
// identification, each with a reason, decides that Art. 33 and Art. 34
// apply and sees the level and the people's clock; describes the
// consequences and measures; opens the printable notification (with the
// registry's DPO and the consequences); sends the Art. 34 communication
// and reads its outcome. An auditor sees no form but opens the report.
func TestIncidentAssessmentInChromium(t *testing.T) {
	started := time.Now()
	b := tab{t, chromium(t)}
	b.do(chromedp.EmulateViewport(1280, 900))
	shot := screenshots(t, b)
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	base := n.http.URL
	const (
		manager = "im@staff.example.org"
		auditor = "dpo@staff.example.org"
	)
	addUser(t, n, manager, auth.IncidentManager)
	addUser(t, n, auditor, auth.Auditor)
	n.clock.Advance(time.Minute)
	offendingRead(t, n)

	b.open(base + "/admin/incidents/1")
	if st := b.signIn(manager); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	b.shows("the forms", "Assess the severity", "Data processing context (DPC)", "not known: no blast radius with field categories yet",
		"Describe the incident", "Send the Art. 34 communication", "Still missing for a complete notification to the authority (Art. 33(3))",
		"likely_consequences: not described yet", "not started: runs from the high-risk decision")

	// 1. The severity: two factors adjusted with their reasons, Art. 33
	// and Art. 34 decided.
	b.fill(map[string]string{"sev-dpc": "3", "sev-dpc-reason": "a year of browsing history per person",
		"sev-ei": "1", "sev-ei-reason": "the warehouse joins client ids to accounts",
		"sev-art33": "yes", "sev-art34": "yes", "sev-reasoning": "profiles of two customers read by a stranger"})
	shot("incident-severity-form", "#assess-severity")
	if st := b.press(`#assess-severity button[type=submit]`); st != 200 {
		t.Fatalf("assess: %d", st)
	}
	b.shows("assessed", "The severity assessment is recorded.", "ENISA score SE = DPC × EI + CB = 3.25: high",
		"by "+manager+": a year of browsing history per person", "by "+manager+": the warehouse joins client ids to accounts",
		"notify the authority (Art. 33): yes; tell the people (Art. 34): yes",
		"notify the authority: yes; tell the people: yes, by "+manager, "profiles of two customers read by a stranger")
	if status := eval[string](b, `document.querySelector('#clocks ~ table [data-obligation="subjects"]').parentElement.textContent`); !strings.Contains(status, "72h 00m left") {
		t.Fatalf("the people's clock (Art. 34) after the decision: %q", status)
	}

	// 2. The description for the reports.
	b.fill(map[string]string{"consequences": "Two customers' browsing could be seen by a stranger.",
		"measures": "The warehouse credential was revoked; its export was deleted."})
	if st := b.press(`#describe-form button[type=submit]`); st != 200 {
		t.Fatalf("describe: %d", st)
	}
	b.shows("described", "The description is recorded for the reports.", "Two customers' browsing could be seen by a stranger.",
		"The warehouse credential was revoked")
	if inc, _ := n.srv.Store.GetIncident(ctx, 1); inc.Consequences != "Two customers' browsing could be seen by a stranger." || !strings.HasPrefix(inc.Measures, "The warehouse credential") {
		t.Fatalf("described: %q %q", inc.Consequences, inc.Measures)
	}
	page := b.shows("still missing", "data: the categories and approximate numbers of people and records are not known yet")
	if strings.Contains(page, "likely_consequences: not described yet") {
		t.Fatal("the consequences are still listed as missing")
	}

	// 3. The printable notification to the authority.
	if st := b.press(`a[href="/admin/incidents/1/report/authority.html"]`); st != 200 {
		t.Fatalf("printable report: %d", st)
	}
	b.shows("printable", "dpo@example.org", "Two customers' browsing could be seen by a stranger.", "The warehouse credential was revoked")
	shot("incident-authority-report", "")

	// 4. The blast radius from the window form (credential and t_l as
	// the monitor found them, to now), then the communication goes out;
	// nobody affected left an address.
	b.open(base + "/admin/incidents/1")
	shot("incident-window-form", "#window-form")
	if st := b.press(`#window-form button[type=submit]`); st != 200 {
		t.Fatalf("window: %d", st)
	}
	b.shows("blast radius", "The blast radius is computed for the window and kept on the incident.", "People affected\t2",
		"credential external:warehouse-bob", "client_id (2)")
	if inc, _ := n.srv.Store.GetIncident(ctx, 1); len(inc.Blast) == 0 {
		t.Fatal("no blast radius kept")
	}
	b.open(base + "/admin/incidents/1")
	if st := b.press(`#communicate button[type=submit]`); st != 200 {
		t.Fatalf("communicate: %d", st)
	}
	b.shows("communicated", "The Art. 34 communication went to 0 people by e-mail. 2 affected people have no contact known: a public communication is needed (Art. 34(3)(c)).")
	b.open(base + "/admin/incidents/1")
	b.signOut()

	// 5. The auditor reads: no form, but the report opens.
	b.open(base + "/admin/incidents/1")
	if st := b.signIn(auditor); st != 200 {
		t.Fatalf("auditor signs in: %d", st)
	}
	b.shows("auditor reads", "You read this incident; incident managers act on it.", "Notification to the supervisory authority (Art. 33(3)), printable")
	if forms := eval[int](b, `document.querySelectorAll('form[method="post"][action^="/admin/incidents"], select, textarea').length`); forms != 0 {
		t.Fatalf("the auditor sees %d forms or fields", forms)
	}
	if st := b.press(`a[href="/admin/incidents/1/report/authority.html"]`); st != 200 {
		t.Fatalf("auditor's report: %d", st)
	}
	b.shows("auditor's report", "dpo@example.org", "Two customers' browsing could be seen by a stranger.")
	t.Logf("walked through in %s", time.Since(started).Round(time.Millisecond))
}
