package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/problem"
)

// Register exports the register (Art. 33(5)), every incident with its
// facts, effects, remedial action and decisions, oldest first:
// ?format=json (default) or csv, filtered by ?state= and ?source=.
func (a *API) Register(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	format := qs.Get("format")
	if format == "" {
		format = incident.RegisterJSON
	}
	if format != incident.RegisterJSON && format != incident.RegisterCSV {
		problem.New(w, http.StatusBadRequest, "invalid", "format: json or csv")
		return
	}
	q, ok := filter(w, r)
	if !ok {
		return
	}
	reg, err := a.Incidents.Register(r.Context(), q)
	if err != nil {
		a.Fail(w, err)
		return
	}
	if !a.record(w, r, "incident register ("+format+")", len(reg.Incidents)) {
		return
	}
	var buf bytes.Buffer
	if err := reg.Write(&buf, format); err != nil {
		a.Fail(w, err)
		return
	}
	name := "incident-register-" + reg.GeneratedAt.Format(time.DateOnly) + "." + format
	if format == incident.RegisterCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// filter reads ?state= (a state, or open) and ?source= as the register's
// list and export take them.
func filter(w http.ResponseWriter, r *http.Request) (incident.RegisterQuery, bool) {
	states, ok := incident.FilterStates(r.URL.Query().Get("state"))
	if !ok {
		problem.New(w, http.StatusBadRequest, "invalid", "state: not a state of an incident, nor open")
		return incident.RegisterQuery{}, false
	}
	source := r.URL.Query().Get("source")
	if !incident.FilterSource(source) {
		problem.New(w, http.StatusBadRequest, "invalid", "source: policy, integrity, unusual or manual")
		return incident.RegisterQuery{}, false
	}
	return incident.RegisterQuery{States: states, Source: source}, true
}
