// Package reviewapi is the HTTP API of the data collection review:
// proposals, their documents and every action on them, as JSON.
package reviewapi

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/apijson"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// MaxBody bounds a proposal: a 500-field registry is about 100 KiB.
const MaxBody = 1 << 20

// API serves /v1/reviews.
type API struct {
	Reviews *review.Service
	Log     *slog.Logger
}

// actor is the token's holder as the review sees it.
func actor(r *http.Request) review.Actor {
	p, _ := auth.FromContext(r.Context())
	return review.Actor{ID: "token:" + p.Name, Role: p.Role}
}

// Fail answers err as problem+json: the caller's mistakes as 4xx with what
// to change, storage trouble as 503; never a 500 for a client's mistake.
func Fail(w http.ResponseWriter, log *slog.Logger, err error) {
	status, typ, detail, errs := Classify(err)
	if status == http.StatusServiceUnavailable {
		log.Error("review: storage failed", "err", err)
		w.Header().Set("Retry-After", "5")
	}
	problem.Write(w, problem.Details{Type: "urn:steward:problem:" + typ, Status: status, Detail: detail, Errors: errs})
}

// Classify maps a review error onto an HTTP status, a problem type, a
// sentence and, for a registry that does not lint, its problems with
// their lines. Pages use it too.
func Classify(err error) (int, string, string, []registry.Problem) {
	var (
		problems *registry.ProblemsError
		inv      *review.InvalidError
		forb     *review.ForbiddenError
		st       *review.StateError
	)
	switch {
	case errors.As(err, &problems):
		return http.StatusBadRequest, "registry-problems", "the registry file does not lint; nothing was stored", problems.Problems
	case errors.As(err, &inv):
		return http.StatusBadRequest, "invalid", inv.Error(), nil
	case errors.Is(err, review.ErrNoChange):
		return http.StatusBadRequest, "no-change", err.Error(), nil
	case errors.As(err, &forb):
		return http.StatusForbidden, "forbidden", forb.Error(), nil
	case errors.Is(err, review.ErrStale):
		return http.StatusConflict, "stale", err.Error() + "; read it again", nil
	case errors.As(err, &st), errors.Is(err, review.ErrAnswered), errors.Is(err, workflow.ErrRefused):
		return http.StatusConflict, "state", err.Error(), nil
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "unknown-proposal", "no proposal with that number", nil
	}
	return http.StatusServiceUnavailable, "unavailable", "storage is unavailable; nothing was changed, retry later", nil
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		problem.New(w, http.StatusNotFound, "unknown-proposal", "a proposal is named by its number")
		return 0, false
	}
	return id, true
}

// proposalInput is POST /v1/reviews and the revise action.
type proposalInput struct {
	// Registry is the proposed registry file's text.
	Registry string            `json:"registry"`
	Title    string            `json:"title"`
	Links    []string          `json:"links"`
	Answers  map[string]string `json:"answers"`
	Submit   bool              `json:"submit"`
	Revision int               `json:"revision"`
}

// Create proposes a registry file: JSON ({registry, title, links, answers,
// submit}) or the file itself as application/yaml (then ?submit=true and
// ?title= may be given).
func (a *API) Create(w http.ResponseWriter, r *http.Request) {
	var in proposalInput
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			problem.New(w, http.StatusRequestEntityTooLarge, "too-large", "a registry file is at most 1 MiB")
			return
		}
		in.Registry, in.Title, in.Submit = string(body), r.URL.Query().Get("title"), r.URL.Query().Get("submit") == "true"
	default:
		if !apijson.Decode(w, r, &in, MaxBody, "1 MiB") {
			return
		}
	}
	p, err := a.Reviews.Propose(r.Context(), actor(r), review.Input{YAML: []byte(in.Registry), Name: "proposal", Title: in.Title,
		Links: in.Links, Answers: in.Answers}, in.Submit)
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	a.writeView(w, r, p, http.StatusCreated)
}

func (a *API) writeView(w http.ResponseWriter, r *http.Request, p store.Proposal, status int) {
	v, err := a.Reviews.View(r.Context(), p)
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	w.Header().Set("Location", "/v1/reviews/"+strconv.FormatInt(p.ID, 10))
	apijson.Write(w, status, viewJSON(v))
}

// List lists proposals, newest first: ?state=a,b, owner, min_category,
// role (needs that role's sign-off), before (an id, for the next page).
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pq := store.ProposalQuery{Owner: q.Get("owner"), Role: q.Get("role"), Limit: 100}
	if s := q.Get("state"); s != "" {
		for _, st := range strings.Split(s, ",") {
			if !review.Lifecycle.Has(workflow.State(st)) {
				problem.New(w, http.StatusBadRequest, "bad-query", "state: "+st+" is not a proposal state")
				return
			}
			pq.States = append(pq.States, st)
		}
	}
	for key, dst := range map[string]*int{"min_category": &pq.MinCategory, "limit": &pq.Limit} {
		if s := q.Get(key); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || (key == "limit" && (n < 1 || n > 1000)) {
				problem.New(w, http.StatusBadRequest, "bad-query", key+": "+s+" is not a number in range")
				return
			}
			*dst = n
		}
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			problem.New(w, http.StatusBadRequest, "bad-query", "before: a proposal number")
			return
		}
		pq.Before = n
	}
	ps, err := a.Reviews.Store.ListProposals(r.Context(), pq)
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	out := make([]proposalJSON, len(ps))
	for i, p := range ps {
		out[i] = summary(p)
	}
	apijson.Write(w, http.StatusOK, map[string]any{"proposals": out})
}

// Get returns a proposal with its changes, requirements, sign-off matrix,
// history and notes.
func (a *API) Get(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	v, err := a.Reviews.Get(r.Context(), id)
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	apijson.Write(w, http.StatusOK, viewJSON(v))
}

// Document returns the review request document as Markdown.
func (a *API) Document(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	v, err := a.Reviews.Get(r.Context(), id)
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	md, err := a.Reviews.Document(v).Markdown()
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="review-request-`+strconv.FormatInt(id, 10)+`.md"`)
	_, _ = w.Write(md)
}

// actionInput is the body of POST /v1/reviews/{id}/{action}.
type actionInput struct {
	Revision    int               `json:"revision"`
	Registry    string            `json:"registry"`
	Title       string            `json:"title"`
	Links       []string          `json:"links"`
	Answers     map[string]string `json:"answers"`
	Decision    string            `json:"decision"`
	Checklist   map[string]string `json:"checklist"`
	Note        string            `json:"note"`
	Mitigations []string          `json:"mitigations"`
	Kind        string            `json:"kind"`
	Text        string            `json:"text"`
	Outcome     string            `json:"outcome"`
}

// Act runs one action: submit, revise, signoff, escalate, comment,
// decide, withdraw.
func (a *API) Act(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in actionInput
	if !apijson.Decode(w, r, &in, MaxBody, "1 MiB") {
		return
	}
	ctx, who := r.Context(), actor(r)
	var p store.Proposal
	var err error
	switch r.PathValue("action") {
	case "submit":
		p, err = a.Reviews.Submit(ctx, who, id, in.Revision)
	case "revise":
		p, err = a.Reviews.Revise(ctx, who, id, in.Revision, review.Input{YAML: []byte(in.Registry), Title: in.Title, Links: in.Links, Answers: in.Answers})
	case "signoff":
		p, err = a.Reviews.SignOff(ctx, who, id, review.SignOffInput{Revision: in.Revision, Decision: in.Decision, Checklist: in.Checklist,
			Note: in.Note, Mitigations: in.Mitigations})
	case "escalate":
		p, err = a.Reviews.Escalate(ctx, who, id, in.Text)
	case "comment":
		p, err = a.Reviews.Comment(ctx, who, id, in.Kind, in.Text)
	case "decide":
		p, err = a.Reviews.Decide(ctx, who, id, in.Outcome, in.Text)
	case "withdraw":
		p, err = a.Reviews.Withdraw(ctx, who, id, in.Text)
	default:
		problem.New(w, http.StatusNotFound, "unknown-action", "actions are submit, revise, signoff, escalate, comment, decide and withdraw")
		return
	}
	if err != nil {
		Fail(w, a.Log, err)
		return
	}
	a.writeView(w, r, p, http.StatusOK)
}

type proposalJSON struct {
	ID          int64             `json:"id"`
	Title       string            `json:"title"`
	Owner       string            `json:"owner"`
	State       string            `json:"state"`
	Revision    int               `json:"revision"`
	BaseVersion int64             `json:"base_version"`
	MaxCategory int               `json:"max_category"`
	Required    []string          `json:"required"`
	Links       []string          `json:"links"`
	Answers     map[string]string `json:"answers,omitempty"`
	Override    string            `json:"override,omitempty"`
	Published   int64             `json:"published_version,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

func summary(p store.Proposal) proposalJSON {
	return proposalJSON{ID: p.ID, Title: p.Title, Owner: p.Owner, State: p.State, Revision: p.Revision, BaseVersion: p.BaseVersion,
		MaxCategory: p.MaxCategory, Required: p.Required, Links: p.Links, Override: p.Override, Published: p.Published,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type changeJSON struct {
	Kind          string   `json:"kind"`
	What          string   `json:"what"`
	Key           string   `json:"key"`
	Category      int      `json:"category"`
	Details       []string `json:"details,omitempty"`
	NoticeChange  bool     `json:"notice_change"`
	NewIdentifier bool     `json:"new_identifier"`
}

type signOffJSON struct {
	Reviewer    string            `json:"reviewer"`
	Role        string            `json:"role"`
	Revision    int               `json:"revision"`
	Decision    string            `json:"decision"`
	Checklist   map[string]string `json:"checklist,omitempty"`
	Note        string            `json:"note,omitempty"`
	Mitigations []string          `json:"mitigations,omitempty"`
	At          time.Time         `json:"at"`
}

type matrixJSON struct {
	Role     string       `json:"role"`
	Reason   string       `json:"reason"`
	Approval *signOffJSON `json:"approval"`
	Latest   *signOffJSON `json:"latest,omitempty"`
	Unseen   []string     `json:"unseen,omitempty"`
}

func signOff(so *store.SignOff) *signOffJSON {
	if so == nil {
		return nil
	}
	return &signOffJSON{Reviewer: so.Reviewer, Role: so.Role, Revision: so.Revision, Decision: so.Decision, Checklist: so.Checklist,
		Note: so.Note, Mitigations: so.Mitigations, At: so.At}
}

func viewJSON(v *review.View) map[string]any {
	p := summary(v.Proposal)
	p.Answers = v.Proposal.Answers
	changes := make([]changeJSON, len(v.Changes))
	for i, c := range v.Changes {
		changes[i] = changeJSON{Kind: c.Kind, What: c.What, Key: c.Key(), Category: int(c.Category), Details: c.Details,
			NoticeChange: c.NoticeChange, NewIdentifier: c.NewIdentifier}
	}
	matrix := make([]matrixJSON, len(v.Matrix))
	for i, m := range v.Matrix {
		matrix[i] = matrixJSON{Role: string(m.Role), Reason: m.Reason, Approval: signOff(m.Approval), Unseen: m.Unseen}
		if m.Latest != m.Approval {
			matrix[i].Latest = signOff(m.Latest)
		}
	}
	history := make([]map[string]any, len(v.History))
	for i, h := range v.History {
		history[i] = map[string]any{"at": h.At, "actor": h.Actor, "action": h.Action, "from": h.From, "to": h.To, "note": h.Note}
	}
	notes := make([]map[string]any, len(v.Notes))
	for i, n := range v.Notes {
		notes[i] = map[string]any{"kind": n.Kind, "author": n.Author, "role": n.Role, "text": n.Text, "at": n.At}
	}
	allowed := make([]string, 0, 4)
	for _, act := range review.Lifecycle.Actions(workflow.State(v.Proposal.State)) {
		allowed = append(allowed, string(act))
	}
	return map[string]any{"proposal": p, "changes": changes, "notice_changes": v.Notice, "signoffs_required": matrix,
		"complete": v.Complete(), "registry_moved": v.Moved, "history": history, "notes": notes, "transitions": allowed}
}
