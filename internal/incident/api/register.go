package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/workflow"
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
	q := incident.RegisterQuery{Source: qs.Get("source")}
	if s := qs.Get("state"); s != "" {
		if !incident.Lifecycle.Has(workflow.State(s)) {
			problem.New(w, http.StatusBadRequest, "invalid", "state: not a state of an incident")
			return
		}
		q.States = []string{s}
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
