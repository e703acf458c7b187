package server

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
)

// TestIncidentWindowForm: an incident manager computes the blast radius
// from the incident's page; mistakes are refused readably and change
// nothing; a reader has no form and is refused.
func TestIncidentWindowForm(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			ctx := context.Background()
			im := signIn(t, n, auth.IncidentManager)
			auditor := signIn(t, n, auth.Auditor)
			offendingRead(t, n)
			first, _ := n.srv.Store.GetIncident(ctx, 1)
			unchanged := func(what string) {
				t.Helper()
				inc, _ := n.srv.Store.GetIncident(ctx, 1)
				if inc.Version != first.Version || len(inc.Blast) != 0 {
					t.Fatalf("%s changed the incident: version %d (was %d)", what, inc.Version, first.Version)
				}
			}
			_, page, _ := im.get("/admin/incidents/1")
			wants(t, "form", page, "Compute the blast radius", "Not computed yet.")
			if !strings.Contains(page, `value="external:warehouse-bob"`) || !strings.Contains(page, `name="from" type="datetime-local" value="2026-11-22T12:34"`) {
				t.Fatal("the window form does not start from the incident's credential and t_l")
			}
			win := func(set map[string]string) url.Values { return actionForm(t, page, "/admin/incidents/1/window", set) }
			for what, c := range map[string]struct {
				form   url.Values
				status int
				want   string
			}{
				"not a time":     {win(map[string]string{"from": "yesterday"}), 400, "The window's start is not a date and time (UTC, as 2026-11-22T14:30); nothing was changed."},
				"end before":     {win(map[string]string{"to": "2026-11-22T12:00"}), 400, "must be before to (2026-11-22 12:00:00 UTC). Nothing was changed."},
				"future":         {win(map[string]string{"to": "2027-01-01T00:00"}), 400, "the window cannot end in the future"},
				"bad credential": {win(map[string]string{"credential": "warehouse-bob"}), 400, "is not method:id as the monitor names credentials"},
				"bad source":     {win(map[string]string{"source": "backups"}), 400, "is neither access_log nor event_store. Nothing was changed."},
				"stale":          {win(map[string]string{"version": "999"}), 409, "changed since you read it"},
			} {
				st, body, _ := im.postForm("/admin/incidents/1/window", c.form)
				wants(t, what, body, c.want)
				if st != c.status {
					t.Fatalf("%s: %d", what, st)
				}
				inShell(t, what, body)
				unchanged(what)
			}
			if st, body, _ := auditor.postForm("/admin/incidents/1/window", url.Values{auth.CSRFField: {auditor.csrf()}, "version": {"1"}}); st != 403 ||
				!strings.Contains(plain(body), "Not for your role") {
				t.Fatalf("auditor: %d %s", st, plain(body))
			}
			if _, body, _ := auditor.get("/admin/incidents/1"); strings.Contains(body, `id="window-form"`) {
				t.Fatal("the auditor is shown the window form")
			}
			unchanged("the auditor")

			st, _, hdr := im.postForm("/admin/incidents/1/window", win(map[string]string{"to": "2026-11-22T13:34"}))
			if st != 303 || hdr.Get("Location") != "/admin/incidents/1?notice=window#blast" {
				t.Fatalf("computed: %d %v", st, hdr)
			}
			_, body, _ := im.get("/admin/incidents/1?notice=window")
			wants(t, "computed", body, "The blast radius is computed for the window and kept on the incident.", "People affected 2", "interaction_data")
			inc, _ := n.srv.Store.GetIncident(ctx, 1)
			b, ok := incident.BlastOf(inc)
			if !ok || b.Subjects != 2 || b.Credential != "external:warehouse-bob" || inc.Version != first.Version+1 {
				t.Fatalf("blast radius kept: %+v", b)
			}
		})
	}
}
