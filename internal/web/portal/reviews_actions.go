package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
	"github.com/steward-privacy/steward/internal/workflow"
)

// ReviewAct handles POST /admin/reviews/{id}/{action}. Every form carries
// the revision its sender read; an action on another revision is refused,
// so nobody approves, decides or withdraws what they have not seen.
func (rv *Reviews) ReviewAct(w http.ResponseWriter, r *http.Request) {
	// RequirePage has parsed the form and checked its CSRF token.
	id, ok := proposalID(r)
	if !ok {
		notFound(w, r)
		return
	}
	ctx, me, action := r.Context(), actor(r), r.PathValue("action")
	cur, err := rv.Service.Store.GetProposal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, r)
		return
	}
	if err != nil {
		rv.unavailable(w, r, err)
		return
	}
	if !validAction[action] {
		ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No such action", Text: "Proposals have no action " + strconv.Quote(ui.ValidText(action)) + ".",
			Next: ui.Link{Label: fmt.Sprintf("Proposal %d", id), Path: fmt.Sprintf("/admin/reviews/%d", id)}})
		return
	}
	rev, err := strconv.Atoi(r.PostFormValue("revision"))
	if err != nil || rev < 1 {
		rv.detail(w, r, http.StatusBadRequest, "The form did not say which revision you read; nothing was done. Reload the proposal and try again.", "", typedReview{})
		return
	}
	t := typedOf(r, action)
	if problem := textProblem(t.texts()); problem != "" {
		rv.detail(w, r, http.StatusBadRequest, problem+" Nothing was done.", "", t.shown())
		return
	}
	var p store.Proposal
	if rev != cur.Revision {
		err = fmt.Errorf("%w: you acted on revision %d, it is at revision %d", review.ErrStale, rev, cur.Revision)
	} else {
		p, err = rv.act(r, me, id, rev, action, t)
	}
	if err != nil {
		rv.refused(w, r, id, err, t)
		return
	}
	notice := action
	if action == "signoff" && p.State == string(review.Approved) {
		notice = "approved"
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/reviews/%d?notice=%s", id, notice), http.StatusSeeOther)
}

var validAction = map[string]bool{"submit": true, "answers": true, "file": true, "signoff": true, "escalate": true,
	"comment": true, "decide": true, "withdraw": true}

func (rv *Reviews) act(r *http.Request, me review.Actor, id int64, rev int, action string, t typedReview) (store.Proposal, error) {
	ctx, svc := r.Context(), rv.Service
	switch action {
	case "submit":
		return svc.Submit(ctx, me, id, rev)
	case "answers":
		return svc.Revise(ctx, me, id, rev, review.Input{Title: t.Title, Answers: t.Answers})
	case "file":
		data, name, problem := registryFile(r)
		if problem == "" && len(data) == 0 {
			problem = "Choose a registry file or paste one."
		}
		if problem != "" {
			return store.Proposal{}, &review.InvalidError{Problems: []string{problem}}
		}
		return svc.Revise(ctx, me, id, rev, review.Input{YAML: data, Name: name})
	case "signoff":
		return svc.SignOff(ctx, me, id, review.SignOffInput{Revision: rev, Decision: t.Decision, Checklist: t.Checklist,
			Note: t.Note, Mitigations: lines(t.Mitigations)})
	case "escalate":
		return svc.Escalate(ctx, me, id, t.Position)
	case "comment":
		return svc.Comment(ctx, me, id, t.Kind, t.Comment)
	case "decide":
		return svc.Decide(ctx, me, id, t.Outcome, t.Reasoning)
	}
	return svc.Withdraw(ctx, me, id, t.WithdrawNote)
}

// typedOf reads an action's form.
func typedOf(r *http.Request, action string) typedReview {
	t := typedReview{Action: action}
	switch action {
	case "answers":
		t.Title = formText(r, "title")
		t.Answers = map[string]string{}
		for _, q := range review.Questions {
			t.Answers[q.Key] = formText(r, "answer."+q.Key)
		}
	case "file":
		t.YAML = r.PostFormValue("yaml")
	case "signoff":
		t.Decision, t.Note, t.Mitigations = r.PostFormValue("decision"), formText(r, "note"), formText(r, "mitigations")
		t.Checklist = map[string]string{}
		for _, c := range review.Checklist {
			t.Checklist[c.Key] = formText(r, "check."+c.Key)
		}
	case "escalate":
		t.Position = formText(r, "position")
	case "comment":
		t.Kind, t.Comment = r.PostFormValue("kind"), formText(r, "text")
	case "decide":
		t.Outcome, t.Reasoning = r.PostFormValue("outcome"), formText(r, "reasoning")
	case "withdraw":
		t.WithdrawNote = formText(r, "note")
	}
	return t
}

// texts are the typed fields the store would keep, for the text check.
func (t typedReview) texts() map[string]string {
	m := map[string]string{"the title": t.Title, "the note": t.Note, "the mitigations": t.Mitigations, "the position": t.Position,
		"the comment": t.Comment, "the reasoning": t.Reasoning, "the withdrawal note": t.WithdrawNote, "the decision": t.Decision,
		"the kind": t.Kind, "the outcome": t.Outcome}
	for k, v := range t.Answers {
		m["the answer to "+k] = v
	}
	for k, v := range t.Checklist {
		m["the checklist answer to "+k] = v
	}
	return m
}

// shown is t as a page may show it again: valid UTF-8 throughout.
func (t typedReview) shown() typedReview {
	s := ui.ValidText
	out := typedReview{Action: t.Action, Decision: s(t.Decision), Note: s(t.Note), Mitigations: s(t.Mitigations), Position: s(t.Position),
		Kind: s(t.Kind), Comment: s(t.Comment), Outcome: s(t.Outcome), Reasoning: s(t.Reasoning), WithdrawNote: s(t.WithdrawNote),
		Title: s(t.Title), YAML: s(t.YAML)}
	if t.Answers != nil {
		out.Answers = map[string]string{}
		for k, v := range t.Answers {
			out.Answers[k] = s(v)
		}
	}
	if t.Checklist != nil {
		out.Checklist = map[string]string{}
		for k, v := range t.Checklist {
			out.Checklist[k] = s(v)
		}
	}
	return out
}

// refused shows why the service refused an action: a readable page with
// the right status, the form kept when the person can fix it.
func (rv *Reviews) refused(w http.ResponseWriter, r *http.Request, id int64, err error, t typedReview) {
	var fe *review.ForbiddenError
	var ie *review.InvalidError
	var pe *registry.ProblemsError
	var se *review.StateError
	var we *workflow.RefusedError
	back := ui.Link{Label: fmt.Sprintf("Back to proposal %d", id), Path: fmt.Sprintf("/admin/reviews/%d", id)}
	switch {
	case errors.As(err, &fe):
		ui.Error(w, r, http.StatusForbidden, ui.Problem{Title: "Not yours to do", Text: sentenceOf(fe.Reason) + " Nothing was changed.", Next: back})
	case errors.As(err, &pe):
		rv.detailWith(w, r, http.StatusBadRequest, lintSummary(pe), "", t.shown(), lintLines(pe), false)
	case errors.As(err, &ie):
		rv.detail(w, r, http.StatusBadRequest, sentenceOf(ie.Error())+" Nothing was changed.", "", t.shown())
	case errors.Is(err, review.ErrNoChange):
		rv.detail(w, r, http.StatusBadRequest, "The file changes nothing in the approved registry; nothing was changed.", "", t.shown())
	case errors.As(err, &we):
		rv.stale(w, r, fmt.Sprintf("Proposal %d is %s: it can no longer be %s.", id, we.From, pastTense[we.Action]))
	case errors.Is(err, review.ErrStale), errors.As(err, &se), errors.Is(err, review.ErrAnswered):
		rv.stale(w, r, sentenceOf(err.Error()))
	case errors.Is(err, store.ErrConflict):
		rv.stale(w, r, "Someone acted on this proposal at the same moment.")
	case errors.Is(err, store.ErrNotFound):
		notFound(w, r)
	default:
		rv.unavailable(w, r, err)
	}
}

// stale answers 409: the page as it is now, with why nothing was done.
func (rv *Reviews) stale(w http.ResponseWriter, r *http.Request, why string) {
	rv.detailWith(w, r, http.StatusConflict, why+" Nothing was done; reload the proposal, read it as it is now and try again.", "", typedReview{}, nil, true)
}

var pastTense = map[workflow.Action]string{
	review.ActSubmit: "submitted", review.ActRequestChanges: "sent back for changes", review.ActApprove: "approved",
	review.ActReject: "rejected", review.ActEscalate: "escalated", review.ActDecide: "decided", review.ActWithdraw: "withdrawn",
	review.ActOverride: "approved by override",
}
