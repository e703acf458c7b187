package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Decisions a reviewer gives.
const (
	DecisionApprove        = "approve"
	DecisionRequestChanges = "request_changes"
	DecisionReject         = "reject"
)

// ChecklistItem is one question of the reviewer's checklist (Mozilla's
// data review form).
type ChecklistItem struct {
	Key, Question string
}

// Checklist is what every reviewer answers before approving.
var Checklist = []ChecklistItem{
	{"documentation", "Is there or will there be public, complete and accurate documentation of the data collected?"},
	{"user_control", "Is there a control mechanism that lets the user turn the collection on and off?"},
	{"monitoring", "If the collection is permanent, is someone monitoring the data over time?"},
	{"category", "Which category does the collection fall under?"},
	{"default", "Is the collection default-on or default-off?"},
	{"new_identifiers", "Does it add any new identifiers?"},
	{"notice", "Is it covered by the existing privacy notice?"},
	{"third_party", "Does it use a third-party collection tool?"},
}

// View is a proposal with everything a page or document shows of it.
type View struct {
	Proposal store.Proposal
	Base     *registry.Registry
	Proposed *registry.Registry
	Changes  []Change
	// Notice lists how the public notice would change.
	Notice       []string
	Requirements []Requirement
	Matrix       []MatrixRow
	SignOffs     []store.SignOff
	History      []store.ProposalEvent
	Notes        []store.ReviewNote
	// Moved says the registry was approved at a newer version since the
	// proposal's base, and publishing this file would change more than
	// was reviewed: the proposer must revise against it.
	Moved bool
}

// MatrixRow is one required sign-off: who gave it and whether it still
// counts.
type MatrixRow struct {
	Requirement
	// Approval is the sign-off that counts (nil while none does).
	Approval *store.SignOff
	// Latest is the newest answer for the role, counted or not.
	Latest *store.SignOff
	// Unseen lists, for a latest answer that no longer counts, the
	// changes its reviewer has not seen as they are now.
	Unseen []string
}

// Complete reports whether every required sign-off is in.
func (v *View) Complete() bool {
	for _, r := range v.Matrix {
		if r.Approval == nil {
			return false
		}
	}
	return len(v.Matrix) > 0
}

// Get reads a proposal with its view.
func (s *Service) Get(ctx context.Context, id int64) (*View, error) {
	p, err := s.Store.GetProposal(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.View(ctx, p)
}

// View builds the view of p: its changes against its base version.
func (s *Service) View(ctx context.Context, p store.Proposal) (*View, error) {
	base, err := s.versionRegistry(ctx, p.BaseVersion)
	if err != nil {
		return nil, err
	}
	proposed, err := proposedRegistry(p)
	if err != nil {
		return nil, err
	}
	v := &View{Proposal: p, Base: base, Proposed: proposed}
	v.Changes, v.Notice, _, v.Requirements = s.analyse(base, proposed)
	if v.SignOffs, err = s.Store.ListSignOffs(ctx, p.ID); err != nil {
		return nil, err
	}
	if v.History, err = s.Store.ProposalHistory(ctx, p.ID); err != nil {
		return nil, err
	}
	if v.Notes, err = s.Store.ListReviewNotes(ctx, p.ID); err != nil {
		return nil, err
	}
	seals := Seals(v.Changes)
	for _, r := range v.Requirements {
		row := MatrixRow{Requirement: r}
		for i := range v.SignOffs {
			so := &v.SignOffs[i]
			if so.Role != string(r.Role) {
				continue
			}
			row.Latest = so
			if so.Decision == DecisionApprove && sameSeals(so.Covered, seals) {
				row.Approval = so
			}
		}
		if row.Latest != nil && row.Approval != row.Latest {
			row.Unseen = Unseen(row.Latest.Covered, seals)
		}
		v.Matrix = append(v.Matrix, row)
	}
	if cur, n := s.current(); n != p.BaseVersion && slices.Contains(Open, workflow.State(p.State)) {
		now, _ := Analyse(cur, proposed, nil)
		v.Moved = !sameSeals(Seals(now), seals)
	}
	return v, nil
}

func (v *View) row(role auth.Role) *MatrixRow {
	for i := range v.Matrix {
		if v.Matrix[i].Role == role {
			return &v.Matrix[i]
		}
	}
	return nil
}

// SignOffInput is a reviewer's answer.
type SignOffInput struct {
	// Revision is the revision the reviewer read.
	Revision    int
	Decision    string
	Checklist   map[string]string
	Note        string
	Mitigations []string
}

// errAnswered: the reviewer already answered this revision.
var errAnswered = errors.New("you already answered this revision")

// ErrAnswered matches a second answer by one reviewer to one revision.
var ErrAnswered = errAnswered

// SignOff records a reviewer's answer. An approval that completes the
// required sign-offs approves the proposal and publishes it, in one
// transaction.
func (s *Service) SignOff(ctx context.Context, actor Actor, id int64, in SignOffInput) (store.Proposal, error) {
	in.Note = strings.TrimSpace(in.Note)
	var mitigations []string
	for _, m := range in.Mitigations {
		if m = strings.TrimSpace(m); m != "" {
			mitigations = append(mitigations, m)
		}
	}
	in.Mitigations = mitigations
	switch in.Decision {
	case DecisionApprove:
		var missing []string
		for _, c := range Checklist {
			if strings.TrimSpace(in.Checklist[c.Key]) == "" {
				missing = append(missing, c.Key)
			}
		}
		if len(missing) > 0 {
			return store.Proposal{}, &InvalidError{Problems: []string{"answer the reviewer's checklist before approving: " + strings.Join(missing, ", ")}}
		}
	case DecisionRequestChanges:
		if len(in.Mitigations) == 0 {
			return store.Proposal{}, invalid("request changes: list the mitigations you ask for")
		}
	case DecisionReject:
		if in.Note == "" {
			return store.Proposal{}, invalid("reject: say why in the note")
		}
	default:
		return store.Proposal{}, invalid("decision: %q is not approve, request_changes or reject", in.Decision)
	}
	return retry(ctx, func() (store.Proposal, error) { return s.signOnce(ctx, actor, id, in) })
}

func (s *Service) signOnce(ctx context.Context, actor Actor, id int64, in SignOffInput) (store.Proposal, error) {
	p, err := s.need(ctx, id, in.Revision)
	if err != nil {
		return p, err
	}
	if workflow.State(p.State) != InReview {
		return p, &StateError{ID: p.ID, State: p.State, Want: "sign-offs are taken only while it is in_review"}
	}
	if owns(p, actor) {
		return p, forbidden("a proposer cannot sign off their own proposal")
	}
	v, err := s.View(ctx, p)
	if err != nil {
		return p, err
	}
	row := v.row(actor.Role)
	if row == nil {
		return p, forbidden("proposal %d needs sign-offs from %s; role %s is not among them", p.ID, requirementList(v.Requirements), actor.Role)
	}
	if in.Decision == DecisionApprove && (actor.Role == auth.LegalReviewer || actor.Role == auth.SecurityReviewer) {
		if pr := v.row(auth.PrivacyReviewer); pr != nil && pr.Approval == nil {
			return p, forbidden("privacy/technical review signs first; legal/trust and security follow it")
		}
	}
	so := store.SignOff{ProposalID: p.ID, Revision: p.Revision, Role: string(actor.Role), Reviewer: actor.ID, Decision: in.Decision,
		Checklist: in.Checklist, Note: in.Note, Mitigations: in.Mitigations, Covered: Seals(v.Changes), At: s.now()}
	add := func(ctx context.Context, tx store.Tx, _ *store.Proposal) error {
		if err := tx.AddSignOff(ctx, so); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w (revision %d)", errAnswered, p.Revision)
			}
			return err
		}
		return nil
	}
	m := s.machine()
	title := RoleTitle(actor.Role)
	switch in.Decision {
	case DecisionRequestChanges:
		out := s.tell(ctx, p, []string{p.Owner}, fmt.Sprintf("Changes requested on proposal %d", p.ID),
			fmt.Sprintf("%s (%s) asks for changes to proposal %d (%s):\n- %s\n%s\nRevise the proposal and submit it again.\n",
				actor.ID, title, p.ID, p.Title, strings.Join(in.Mitigations, "\n- "), in.Note))
		return m.FireAlso(ctx, p, ActRequestChanges, actor.ID, title+" requested changes: "+strings.Join(in.Mitigations, "; "), add, out...)
	case DecisionReject:
		out := s.tell(ctx, p, s.parties(ctx, p, v), fmt.Sprintf("Proposal %d was rejected", p.ID),
			fmt.Sprintf("%s (%s) rejected proposal %d (%s): %s\n", actor.ID, title, p.ID, p.Title, in.Note))
		return m.FireAlso(ctx, p, ActReject, actor.ID, title+" rejected: "+in.Note, add, out...)
	}
	// An approval: does it complete the matrix?
	row.Approval = &so
	if !v.Complete() {
		out := s.tell(ctx, p, []string{p.Owner}, fmt.Sprintf("Proposal %d: %s signed off", p.ID, title),
			fmt.Sprintf("%s (%s) approved proposal %d (%s). Still needed: %s.\n", actor.ID, title, p.ID, p.Title, missingList(v)))
		return m.NoteAlso(ctx, p, actor.ID, title+" approved", add, out...)
	}
	if v.Moved {
		out := s.tell(ctx, p, []string{p.Owner}, fmt.Sprintf("Proposal %d needs a revision before it is published", p.ID),
			fmt.Sprintf("Every sign-off for proposal %d is in, but the registry was approved at a newer version since it was proposed. Revise the proposal against it; sign-offs for unchanged changes keep counting.\n", p.ID))
		return m.NoteAlso(ctx, p, actor.ID, title+" approved; every sign-off is in, but the registry moved on: the proposer must revise before it is published", add, out...)
	}
	return s.approve(ctx, p, v, actor.ID, title+" approved; every required sign-off is in", add)
}

// approve fires the approval and publishes the proposal as the next
// registry version in one transaction.
func (s *Service) approve(ctx context.Context, p store.Proposal, v *View, actor, note string, also workflow.Also[store.Proposal]) (store.Proposal, error) {
	_, head := s.current()
	pub, err := s.prepare(p, "review", fmt.Sprintf("proposal %d (%s), approved by %s", p.ID, p.Title, signers(v)))
	if err != nil {
		return p, err
	}
	out := s.tell(ctx, p, s.parties(ctx, p, v), fmt.Sprintf("Proposal %d approved and published", p.ID),
		fmt.Sprintf("Proposal %d (%s) has every required sign-off and is now the registry in force.\n", p.ID, p.Title))
	next, err := s.machine().FireAlso(ctx, p, ActApprove, actor, note, chain(also, pub.also(head)), out...)
	return next, s.after(ctx, pub, err)
}

// after puts a committed approval's version in force, or, when another
// node published first, reads that version so the retry judges against it.
func (s *Service) after(ctx context.Context, pub *publishing, err error) error {
	switch {
	case err == nil:
		s.installed(pub)
	case errors.Is(err, errMoved):
		if _, rerr := s.Registry.Refresh(ctx); rerr != nil {
			return rerr
		}
	}
	return err
}

// complete approves a proposal in review whose sign-offs are all in (after
// a revision that kept them valid).
func (s *Service) complete(ctx context.Context, p store.Proposal) (store.Proposal, error) {
	return retry(ctx, func() (store.Proposal, error) {
		p, err := s.Store.GetProposal(ctx, p.ID)
		if err != nil || workflow.State(p.State) != InReview {
			return p, err
		}
		v, err := s.View(ctx, p)
		if err != nil || !v.Complete() || v.Moved {
			return p, err
		}
		return s.approve(ctx, p, v, "steward", "every required sign-off still counts after the revision", nil)
	})
}

func signers(v *View) string {
	var out []string
	for _, r := range v.Matrix {
		if r.Approval != nil {
			out = append(out, r.Approval.Reviewer+" ("+RoleTitle(r.Role)+")")
		}
	}
	return strings.Join(out, ", ")
}

func missingList(v *View) string {
	var out []string
	for _, r := range v.Matrix {
		if r.Approval == nil {
			out = append(out, RoleTitle(r.Role))
		}
	}
	return strings.Join(out, ", ")
}

// StateError is an action the proposal's state does not take.
type StateError struct {
	ID    int64
	State string
	Want  string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("proposal %d is %s: %s", e.ID, e.State, e.Want)
}
