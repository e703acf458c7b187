package portal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// The /v1 API takes bearer tokens only, so a signed-in person's browser
// reads the drafts and the register export through these portal routes;
// each calls the same service function as the API and logs the read the
// same way (dataset @incidents, purpose incident_response).

// drafts are the links of an incident's Drafts section.
func drafts(id int64) []ui.Link {
	base := fmt.Sprintf("/admin/incidents/%d", id)
	return []ui.Link{
		{Label: "Notification to the supervisory authority (Art. 33(3)), printable", Path: base + "/report/authority.html"},
		{Label: "The same notification as Markdown", Path: base + "/report/authority.md"},
		{Label: "The same notification as JSON", Path: base + "/report/authority.json"},
		{Label: "Communication to the people affected (Art. 34), Markdown draft", Path: base + "/communication.md"},
	}
}

// authorityReport drafts the Art. 33(3) report of the incident in the
// path and logs the read, as GET /v1/incidents/{id}/report/authority.* does.
func (s *Incidents) authorityReport(w http.ResponseWriter, r *http.Request, as string) (incident.AuthorityReport, bool) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return incident.AuthorityReport{}, false
	}
	rep, err := s.Service.AuthorityReport(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		incidentNotFound(w, r)
		return rep, false
	}
	if err != nil {
		s.unavailable(w, r, err)
		return rep, false
	}
	return rep, s.record(w, r, "portal incident "+strconv.FormatInt(id, 10)+" authority report ("+as+")", 1)
}

// AuthorityHTML handles GET /admin/incidents/{id}/report/authority.html,
// the printable notification.
func (s *Incidents) AuthorityHTML(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.authorityReport(w, r, "html")
	if !ok {
		return
	}
	page, err := rep.HTML()
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", incident.ReportCSP)
	download(w, "text/html; charset=utf-8", "", page)
}

// AuthorityMarkdown handles GET /admin/incidents/{id}/report/authority.md.
func (s *Incidents) AuthorityMarkdown(w http.ResponseWriter, r *http.Request) {
	if rep, ok := s.authorityReport(w, r, "markdown"); ok {
		download(w, "text/markdown; charset=utf-8", "", []byte(rep.Markdown()))
	}
}

// AuthorityJSON handles GET /admin/incidents/{id}/report/authority.json.
func (s *Incidents) AuthorityJSON(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.authorityReport(w, r, "json")
	if !ok {
		return
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	download(w, "application/json", "", append(b, '\n'))
}

// CommunicationMarkdown handles GET /admin/incidents/{id}/communication.md,
// the Art. 34 draft.
func (s *Incidents) CommunicationMarkdown(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	c, err := s.Service.Communication(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		incidentNotFound(w, r)
		return
	}
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !s.record(w, r, "portal incident "+strconv.FormatInt(id, 10)+" communication (markdown)", 1) {
		return
	}
	download(w, "text/markdown; charset=utf-8", "", []byte(c.Markdown()))
}

// RegisterCSV handles GET /admin/incidents/register.csv.
func (s *Incidents) RegisterCSV(w http.ResponseWriter, r *http.Request) {
	s.register(w, r, incident.RegisterCSV)
}

// RegisterJSON handles GET /admin/incidents/register.json.
func (s *Incidents) RegisterJSON(w http.ResponseWriter, r *http.Request) {
	s.register(w, r, incident.RegisterJSON)
}

// register exports the register (Art. 33(5)) with the list's filters:
// ?state= (a state, or open) and ?source=.
func (s *Incidents) register(w http.ResponseWriter, r *http.Request, format string) {
	qs := r.URL.Query()
	state, source := qs.Get("state"), qs.Get("source")
	var problems []string
	states, ok := incident.FilterStates(state)
	if !ok {
		problems = append(problems, "unknown state (choose one from the register's list)")
	}
	if !incident.FilterSource(source) {
		problems = append(problems, "unknown source (policy, integrity, unusual or manual)")
	}
	q := incident.RegisterQuery{States: states, Source: source}
	if len(problems) > 0 {
		ui.Error(w, r, http.StatusBadRequest, ui.Problem{Title: "Please fix the filter", Text: sentenceOf(strings.Join(problems, "; ")) + " Nothing was exported.", Next: registerLink})
		return
	}
	reg, err := s.Service.Register(r.Context(), q)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !s.record(w, r, "portal incident register ("+format+")"+filterText(state, source, 0), len(reg.Incidents)) {
		return
	}
	var buf bytes.Buffer
	if err := reg.Write(&buf, format); err != nil {
		s.unavailable(w, r, err)
		return
	}
	ct := "application/json"
	if format == incident.RegisterCSV {
		ct = "text/csv; charset=utf-8"
	}
	download(w, ct, "incident-register-"+reg.GeneratedAt.Format(time.DateOnly)+"."+format, buf.Bytes())
}

// registerExports are the register's download links with the list's
// filters.
func registerExports(state, source string) []ui.Link {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if source != "" {
		q.Set("source", source)
	}
	suffix := ""
	if len(q) > 0 {
		suffix = "?" + q.Encode()
	}
	return []ui.Link{{Label: "Download the register as CSV", Path: "/admin/incidents/register.csv" + suffix},
		{Label: "as JSON", Path: "/admin/incidents/register.json" + suffix}}
}

// download writes a document; with a name, as an attachment.
func download(w http.ResponseWriter, ct, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if name != "" {
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// drafted fills the Drafts section (links and what the reports still
// lack) and, for incident managers of an open incident, the severity,
// description and communication forms.
func (s *Incidents) drafted(r *http.Request, v *incidentView) {
	rep, c := s.Service.AuthorityReportOf(v.I, v.History), s.Service.CommunicationOf(v.I)
	v.Drafts, v.Unknown, v.CommUnknown = drafts(v.I.ID), rep.Unknown, c.Unknown
	if v.Manage {
		// Describing stays open after the end: the register keeps the
		// consequences and measures (Art. 33(5)).
		v.DescribeForm = newDescribeForm(v.I, r)
	}
	if v.Manage && !v.Final {
		v.SeverityForm = newSeverityForm(severityInForce(v.I), r)
		v.WindowForm = s.newWindowForm(v.I, v.Blast, v.HasBlast, r)
		v.Communicate = true
	}
}
