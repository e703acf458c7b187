package portal

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// Incidents serves the breach engine's pages under /admin/incidents: the
// register (Art. 33(5)) with its filters and clocks, an incident's page
// with its facts, clocks, timeline, offending accesses, blast radius,
// severity and the actions, and the form that opens one by hand.
// Incident managers act; auditors (a DPO signs in as one) read.
type Incidents struct {
	Service *incident.Service
	// Access records every read (incidents name credentials and hold
	// people's keys), as the API does.
	Access accesslog.Recorder
	IPs    clientip.Resolver
	Log    *slog.Logger
}

// incidentActor is the signed-in person as the incident service knows
// them.
func incidentActor(r *http.Request) incident.Actor {
	p, _ := auth.FromContext(r.Context())
	return incident.Actor{Name: p.Name, Role: p.Role, Method: p.Method, Credential: p.CredentialID}
}

func canManage(r *http.Request) bool {
	p, _ := auth.FromContext(r.Context())
	return slices.Contains(incident.Managers, p.Role)
}

func (s *Incidents) now() time.Time { return s.Service.Clock.Now().UTC() }

func (s *Incidents) render(w http.ResponseWriter, r *http.Request, status int, name string, p ui.Page) {
	p.Wide = true
	if err := pages.Render(w, r, status, name, p); err != nil {
		s.Log.Error("portal: render failed", "page", name, "err", err)
	}
}

var registerLink = ui.Link{Label: "The incident register", Path: "/admin/incidents"}

func (s *Incidents) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error("portal: incidents failed", "err", err)
	w.Header().Set("Retry-After", "30")
	ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Title: "Please try again",
		Text: "The incidents could not be read or changed just now; nothing was lost. Try again in a minute.", Next: registerLink})
}

func incidentNotFound(w http.ResponseWriter, r *http.Request) {
	ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No such incident", Text: "There is no incident with that number.", Next: registerLink})
}

// record puts a read of incidents in the access log before the page shows
// it, as the API's reads are (dataset @incidents, purpose
// incident_response).
func (s *Incidents) record(w http.ResponseWriter, r *http.Request, query string, n int) bool {
	p, _ := auth.FromContext(r.Context())
	e := incident.ReadEntry(accesslog.ForRequest(r, p, s.IPs, s.now()), query, n)
	if err := s.Access.Append(r.Context(), e); err != nil {
		s.unavailable(w, r, err)
		return false
	}
	return true
}

// incidentRow is one incident of the register.
type incidentRow struct {
	I      store.Incident
	Clocks []clockRow
	// Late: some duty is overdue or was met late.
	Late bool
}

type incidentsView struct {
	State, Source   string
	States, Sources []string
	Rows            []incidentRow
	Newest, Older   string
	Now             time.Time
	Manage          bool
	// Exports download the register with the filters shown.
	Exports []ui.Link
}

// List handles GET /admin/incidents: the register, newest first, every
// incident notified or not, with ?state= (a state or "open"), ?source=
// and ?before= (an incident number, for the older page).
func (s *Incidents) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := incidentsView{State: q.Get("state"), Source: q.Get("source"), Sources: incident.Sources, Now: s.now(), Manage: canManage(r)}
	v.States = []string{"open"}
	for _, st := range incident.Lifecycle.States() {
		v.States = append(v.States, string(st))
	}
	query := store.IncidentQuery{Limit: PageSize + 1}
	var problems []string
	states, ok := incident.FilterStates(v.State)
	if !ok {
		problems = append(problems, "unknown state (choose one from the list)")
	}
	if !incident.FilterSource(v.Source) {
		problems = append(problems, "unknown source (policy, integrity, unusual or manual)")
	}
	query.States, query.Source = states, v.Source
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			problems = append(problems, "“before” must be an incident number")
		}
		query.Before = n
	}
	if len(problems) > 0 {
		v.State, v.Source = ui.ValidText(v.State), ui.ValidText(v.Source)
		s.render(w, r, http.StatusBadRequest, "incidents", ui.Page{Title: "Incidents",
			Error: "Please fix the filter: " + strings.Join(problems, "; ") + ".", Data: v})
		return
	}
	list, err := s.Service.Store.ListIncidents(r.Context(), query)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	more := len(list) > PageSize
	if more {
		list = list[:PageSize]
	}
	if !s.record(w, r, "portal incident list"+filterText(v.State, v.Source, query.Before), len(list)) {
		return
	}
	for _, i := range list {
		row := incidentRow{I: i, Clocks: clockRows(s.Service.Clocks(i, v.Now))}
		for _, c := range row.Clocks {
			row.Late = row.Late || c.Class == "overdue"
		}
		v.Rows = append(v.Rows, row)
	}
	link := func(before int64) string {
		q2 := url.Values{}
		if v.State != "" {
			q2.Set("state", v.State)
		}
		if v.Source != "" {
			q2.Set("source", v.Source)
		}
		if before > 0 {
			q2.Set("before", strconv.FormatInt(before, 10))
		}
		if len(q2) == 0 {
			return "/admin/incidents"
		}
		return "/admin/incidents?" + q2.Encode()
	}
	if query.Before > 0 {
		v.Newest = link(0)
	}
	if more {
		v.Older = link(list[len(list)-1].ID)
	}
	v.Exports = registerExports(v.State, v.Source)
	s.render(w, r, http.StatusOK, "incidents", ui.Page{Title: "Incidents", Data: v})
}

// filterText is the list's filters as the access log's query keeps them.
func filterText(state, source string, before int64) string {
	var parts []string
	if state != "" {
		parts = append(parts, "state="+state)
	}
	if source != "" {
		parts = append(parts, "source="+source)
	}
	if before > 0 {
		parts = append(parts, "before="+strconv.FormatInt(before, 10))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, " ")
}
