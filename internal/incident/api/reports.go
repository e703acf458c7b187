package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-privacy/steward/internal/apijson"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/problem"
)

// reportFail answers the reports' own refusals, then what Fail knows.
func (a *API) reportFail(w http.ResponseWriter, err error) {
	if errors.Is(err, incident.ErrNotNow) {
		problem.New(w, http.StatusConflict, "not-now", strings.TrimPrefix(err.Error(), incident.ErrNotNow.Error()+": "))
		return
	}
	a.Fail(w, err)
}

// authority drafts the Art. 33(3) report and logs the read.
func (a *API) authority(w http.ResponseWriter, r *http.Request, as string) (incident.AuthorityReport, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return incident.AuthorityReport{}, false
	}
	rep, err := a.Incidents.AuthorityReport(r.Context(), id)
	if err != nil {
		a.Fail(w, err)
		return rep, false
	}
	return rep, a.record(w, r, "incident "+strconv.FormatInt(id, 10)+" authority report ("+as+")", 1)
}

// AuthorityJSON is GET /v1/incidents/{id}/report/authority.json.
func (a *API) AuthorityJSON(w http.ResponseWriter, r *http.Request) {
	if rep, ok := a.authority(w, r, "json"); ok {
		apijson.Write(w, http.StatusOK, rep)
	}
}

// AuthorityMarkdown is GET /v1/incidents/{id}/report/authority.md.
func (a *API) AuthorityMarkdown(w http.ResponseWriter, r *http.Request) {
	if rep, ok := a.authority(w, r, "markdown"); ok {
		text(w, "text/markdown; charset=utf-8", []byte(rep.Markdown()))
	}
}

// AuthorityHTML is GET /v1/incidents/{id}/report/authority.html, the
// printable page.
func (a *API) AuthorityHTML(w http.ResponseWriter, r *http.Request) {
	rep, ok := a.authority(w, r, "html")
	if !ok {
		return
	}
	page, err := rep.HTML()
	if err != nil {
		a.Fail(w, err)
		return
	}
	w.Header().Set("Content-Security-Policy", incident.ReportCSP)
	text(w, "text/html; charset=utf-8", page)
}

// CommunicationMarkdown is GET /v1/incidents/{id}/communication.md: the
// Art. 34 draft.
func (a *API) CommunicationMarkdown(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	c, err := a.Incidents.Communication(r.Context(), id)
	if err != nil {
		a.Fail(w, err)
		return
	}
	if !a.record(w, r, "incident "+strconv.FormatInt(id, 10)+" communication (markdown)", 1) {
		return
	}
	text(w, "text/markdown; charset=utf-8", []byte(c.Markdown()))
}

func text(w http.ResponseWriter, ct string, b []byte) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// Describe is POST /v1/incidents/{id}/describe {consequences, measures,
// delay_reasons, version}; a field left out is kept.
func (a *API) Describe(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		Consequences *string `json:"consequences"`
		Measures     *string `json:"measures"`
		Delay        *string `json:"delay_reasons"`
		Version      int64   `json:"version"`
	}
	if !apijson.Decode(w, r, &in, 256<<10, "256 KiB") {
		return
	}
	i, err := a.Incidents.Describe(r.Context(), id, actor(r), incident.DescribeInput{Consequences: in.Consequences,
		Measures: in.Measures, Delay: in.Delay, Version: in.Version})
	if err != nil {
		a.Fail(w, err)
		return
	}
	out := struct {
		Incident
		Consequences string `json:"consequences"`
		Measures     string `json:"measures"`
	}{a.wire(i, a.Clock.Now().UTC()), i.Consequences, i.Measures}
	apijson.Write(w, http.StatusOK, out)
}

// Communicate is POST /v1/incidents/{id}/communicate {version}.
func (a *API) Communicate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		Version int64 `json:"version"`
	}
	if !apijson.Decode(w, r, &in, 4<<10, "4 KiB") {
		return
	}
	res, err := a.Incidents.CommunicateToSubjects(r.Context(), id, actor(r), incident.CommunicateInput{Version: in.Version})
	if err != nil {
		a.reportFail(w, err)
		return
	}
	apijson.Write(w, http.StatusOK, map[string]any{
		"sent": res.Sent, "already_told": res.Already, "no_contact": res.NoContact, "subjects": res.Subjects,
		"subject_keys_truncated": res.KeysTruncated, "public_communication_needed": res.NoContact > 0,
		"incident": a.wire(res.Incident, a.Clock.Now().UTC()),
	})
}
