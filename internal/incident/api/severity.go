package api

import (
	"net/http"
	"strconv"

	"github.com/steward-privacy/steward/internal/apijson"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

// Severity is an incident's assessment on the wire: the stored one, or
// steward's pre-score from the blast radius when none is (Stored false),
// with the scales a form offers.
type Severity struct {
	incident.Severity
	Stored  bool                 `json:"stored"`
	Version int64                `json:"version"`
	Scales  map[string][]float64 `json:"scales"`
}

// severityOf is the assessment in force for incident i.
func severityOf(i store.Incident) Severity {
	sev, stored := incident.SeverityOf(i)
	if !stored {
		b, ok := incident.BlastOf(i)
		sev = incident.PreScore(i, b, ok)
	}
	return Severity{Severity: sev, Stored: stored, Version: i.Version, Scales: incident.Scales}
}

// GetSeverity answers GET /v1/incidents/{id}/severity.
func (a *API) GetSeverity(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	i, err := a.Incidents.Store.GetIncident(r.Context(), id)
	if err != nil {
		a.Fail(w, err)
		return
	}
	if !a.record(w, r, "incident "+strconv.FormatInt(id, 10)+" severity", 1) {
		return
	}
	apijson.Write(w, http.StatusOK, severityOf(i))
}

// PostSeverity answers POST /v1/incidents/{id}/severity with the
// AssessInput JSON: {"dpc": {"value", "reason"}, "ei", "confidentiality",
// "integrity", "availability", "malicious", "decision": {"art33",
// "art34", "reasoning"}, "version"}.
func (a *API) PostSeverity(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in incident.AssessInput
	if !apijson.Decode(w, r, &in, 256<<10, "256 KiB") {
		return
	}
	i, err := a.Incidents.Assess(r.Context(), id, actor(r), in)
	if err != nil {
		a.Fail(w, err)
		return
	}
	apijson.Write(w, http.StatusOK, severityOf(i))
}
