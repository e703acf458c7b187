// Package api is the HTTP API of breach incidents, as JSON: the register
// (list), one incident with its clocks, history and offending accesses,
// opening one by hand, and every action.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/apijson"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// API serves /v1/incidents.
type API struct {
	Incidents *incident.Service
	// Access records every read of an incident (they name credentials
	// and hold people's keys).
	Access accesslog.Recorder
	IPs    clientip.Resolver
	Clock  clock.Clock
	Log    *slog.Logger
}

func actor(r *http.Request) incident.Actor {
	p, _ := auth.FromContext(r.Context())
	return incident.Actor{Name: p.Name, Role: p.Role, Method: p.Method, Credential: p.CredentialID}
}

// Fail answers err as problem+json.
func (a *API) Fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, incident.ErrInvalid):
		// The detail is the sentence alone: the kind is in type already.
		problem.New(w, http.StatusBadRequest, "invalid", strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": "))
	case errors.Is(err, incident.ErrForbidden):
		problem.New(w, http.StatusForbidden, "forbidden", strings.TrimPrefix(err.Error(), incident.ErrForbidden.Error()+": "))
	case errors.Is(err, workflow.ErrRefused):
		problem.New(w, http.StatusConflict, "state", err.Error())
	case errors.Is(err, store.ErrConflict):
		problem.New(w, http.StatusConflict, "stale", "the incident changed since it was read; read it again")
	case errors.Is(err, store.ErrNotFound):
		problem.New(w, http.StatusNotFound, "unknown-incident", "no incident with that number")
	default:
		a.Log.Error("incident: storage failed", "err", err)
		w.Header().Set("Retry-After", "5")
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; nothing was changed, retry later")
	}
}

// Clock is one obligation's clock on the wire.
type Clock struct {
	Obligation string     `json:"obligation"`
	Start      *time.Time `json:"start"`
	Due        *time.Time `json:"due"`
	Met        *time.Time `json:"met"`
	// SecondsLeft counts down while the duty is open (negative once late).
	SecondsLeft *int64 `json:"seconds_left"`
	Late        bool   `json:"late"`
	Moot        bool   `json:"moot"`
}

// Incident is one incident on the wire.
type Incident struct {
	ID                  int64      `json:"id"`
	Title               string     `json:"title"`
	Source              string     `json:"source"`
	State               string     `json:"state"`
	Credential          string     `json:"credential,omitempty"`
	Dataset             string     `json:"dataset,omitempty"`
	Summary             string     `json:"summary"`
	LeakAt              *time.Time `json:"leak_at"`
	AwareAt             *time.Time `json:"aware_at"`
	OwnerNotifiedAt     *time.Time `json:"owner_notified_at"`
	AuthorityNotifiedAt *time.Time `json:"authority_notified_at"`
	SubjectsNotifiedAt  *time.Time `json:"subjects_notified_at"`
	HighRiskAt          *time.Time `json:"high_risk_at"`
	Reasoning           string     `json:"reasoning,omitempty"`
	Accesses            int64      `json:"accesses"`
	OpenedBy            string     `json:"opened_by"`
	Version             int64      `json:"version"`
	Actions             []string   `json:"actions"`
	Clocks              []Clock    `json:"clocks"`
	// BlastRadius is on one incident's page, not in the list (its keys
	// may be many).
	BlastRadius *incident.BlastRadius `json:"blast_radius,omitempty"`
}

func blastOf(i store.Incident) *incident.BlastRadius {
	if b, ok := incident.BlastOf(i); ok {
		return &b
	}
	return nil
}

func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) wire(i store.Incident, now time.Time) Incident {
	out := Incident{ID: i.ID, Title: i.Title, Source: i.Source, State: i.State, Credential: i.Credential, Dataset: i.Dataset,
		Summary: i.Summary, LeakAt: opt(i.LeakAt), AwareAt: opt(i.AwareAt), OwnerNotifiedAt: opt(i.OwnerNotifiedAt),
		AuthorityNotifiedAt: opt(i.AuthorityNotifiedAt), SubjectsNotifiedAt: opt(i.SubjectsNotifiedAt), HighRiskAt: opt(i.HighRiskAt),
		Reasoning: i.Reasoning, Accesses: i.Accesses, OpenedBy: i.OpenedBy, Version: i.Version, Actions: []string{}}
	for _, act := range incident.Lifecycle.Actions(workflow.State(i.State)) {
		out.Actions = append(out.Actions, string(act))
	}
	if !incident.Lifecycle.Final(workflow.State(i.State)) {
		out.Actions = append(out.Actions, string(incident.HighRisk), "note")
	}
	for _, c := range a.Incidents.Clocks(i, now) {
		w := Clock{Obligation: c.Obligation.Name, Start: opt(c.Start), Due: opt(c.Due), Met: opt(c.Met), Late: c.Late, Moot: c.Moot}
		if !c.Start.IsZero() && c.Met.IsZero() && !c.Moot {
			s := int64(c.Left / time.Second)
			w.SecondsLeft = &s
		}
		out.Clocks = append(out.Clocks, w)
	}
	return out
}

// record puts a read of incidents in the access log first.
func (a *API) record(w http.ResponseWriter, r *http.Request, query string, n int) bool {
	p, _ := auth.FromContext(r.Context())
	e := incident.ReadEntry(accesslog.ForRequest(r, p, a.IPs, a.Clock.Now()), query, n)
	if err := a.Access.Append(r.Context(), e); err != nil {
		a.Fail(w, err)
		return false
	}
	return true
}

// List is the register (Art. 33(5)): every incident, notified or not.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	f, ok := filter(w, r)
	if !ok {
		return
	}
	q := store.IncidentQuery{States: f.States, Source: f.Source, Limit: 100}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			problem.New(w, http.StatusBadRequest, "invalid", "before: an incident number")
			return
		}
		q.Before = n
	}
	list, err := a.Incidents.Store.ListIncidents(r.Context(), q)
	if err != nil {
		a.Fail(w, err)
		return
	}
	if !a.record(w, r, "incident list", len(list)) {
		return
	}
	now := a.Clock.Now().UTC()
	out := make([]Incident, 0, len(list))
	for _, i := range list {
		out = append(out, a.wire(i, now))
	}
	apijson.Write(w, http.StatusOK, map[string]any{"incidents": out})
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		problem.New(w, http.StatusNotFound, "unknown-incident", "an incident is named by its number")
		return 0, false
	}
	return id, true
}

// Get is one incident with its history and offending accesses.
func (a *API) Get(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	i, err := a.Incidents.Store.GetIncident(ctx, id)
	if err != nil {
		a.Fail(w, err)
		return
	}
	hist, err := a.Incidents.Store.IncidentHistory(ctx, id)
	if err != nil {
		a.Fail(w, err)
		return
	}
	acc, err := a.Incidents.Store.IncidentAccesses(ctx, id, 1000)
	if err != nil {
		a.Fail(w, err)
		return
	}
	if !a.record(w, r, "incident "+strconv.FormatInt(id, 10), 1) {
		return
	}
	type event struct {
		At     time.Time `json:"at"`
		Actor  string    `json:"actor"`
		Action string    `json:"action,omitempty"`
		From   string    `json:"from,omitempty"`
		To     string    `json:"to"`
		Note   string    `json:"note,omitempty"`
	}
	type access struct {
		Seq    int64     `json:"seq"`
		At     time.Time `json:"at"`
		Reason string    `json:"reason"`
	}
	out := struct {
		Incident
		History  []event  `json:"history"`
		Offences []access `json:"offending_accesses"`
		Severity Severity `json:"severity"`
	}{Incident: a.wire(i, a.Clock.Now().UTC()), History: []event{}, Offences: []access{}, Severity: severityOf(i)}
	out.BlastRadius = blastOf(i)
	for _, h := range hist {
		out.History = append(out.History, event{h.At, h.Actor, h.Action, h.From, h.To, h.Note})
	}
	for _, x := range acc {
		out.Offences = append(out.Offences, access{x.Seq, x.At, x.Reason})
	}
	apijson.Write(w, http.StatusOK, out)
}

// Create opens an incident by hand.
func (a *API) Create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title   string     `json:"title"`
		Summary string     `json:"summary"`
		Dataset string     `json:"dataset"`
		LeakAt  *time.Time `json:"leak_at"`
		AwareAt *time.Time `json:"aware_at"`
	}
	if !apijson.Decode(w, r, &in, 64<<10, "64 KiB") {
		return
	}
	oi := incident.OpenInput{Title: in.Title, Summary: in.Summary, Dataset: in.Dataset}
	if in.LeakAt != nil {
		oi.LeakAt = *in.LeakAt
	}
	if in.AwareAt != nil {
		oi.AwareAt = *in.AwareAt
	}
	i, err := a.Incidents.OpenByHand(r.Context(), actor(r), oi)
	if err != nil {
		a.Fail(w, err)
		return
	}
	apijson.Write(w, http.StatusCreated, a.wire(i, a.Clock.Now().UTC()))
}

// Act takes an action: {"note": "...", "version": n}.
func (a *API) Act(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		Note    string `json:"note"`
		Version int64  `json:"version"`
	}
	if !apijson.Decode(w, r, &in, 64<<10, "64 KiB") {
		return
	}
	i, err := a.Incidents.Act(r.Context(), id, actor(r), incident.ActInput{Action: workflow.Action(r.PathValue("action")), Note: in.Note, Version: in.Version})
	if err != nil {
		a.Fail(w, err)
		return
	}
	apijson.Write(w, http.StatusOK, a.wire(i, a.Clock.Now().UTC()))
}
