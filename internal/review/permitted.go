package review

import (
	"slices"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Permitted is what an actor may do with a proposal as a view shows it, by
// the rules the service enforces, so pages offer only those actions. The
// service still decides: it reads the proposal again when the action comes.
type Permitted struct {
	// Submit: the proposer, while the proposal is a draft.
	Submit bool
	// Revise: the proposer, in draft or in review (the file or the answers).
	Revise bool
	// SignOff: a person holding a required role who did not propose it,
	// while it is in review, once per revision.
	SignOff bool
	// Approve: SignOff, and the order of sign-offs lets this role approve
	// now (legal/trust and security follow privacy/technical review).
	Approve bool
	// Answered: the actor already answered this revision.
	Answered bool
	// Escalate: the proposer or a reviewer, in draft or in review.
	Escalate bool
	// Comment: a party or a product owner, while it is escalated.
	Comment bool
	// Decide: a product owner who did not propose it, while it is escalated.
	Decide bool
	// Withdraw: the proposer or an admin, while it is open.
	Withdraw bool
}

// Permitted says what a may do with v's proposal now.
func (v *View) Permitted(a Actor) Permitted {
	p := v.Proposal
	st := workflow.State(p.State)
	can := func(act workflow.Action) bool { return slices.Contains(Lifecycle.Actions(st), act) }
	owner := a.ID == p.Owner
	out := Permitted{
		Submit:   owner && can(ActSubmit),
		Revise:   owner && (st == Draft || st == InReview),
		Escalate: party(p, a) && can(ActEscalate),
		Comment:  st == Escalated && (party(p, a) || a.Role == auth.ProductOwner),
		Decide:   st == Escalated && a.Role == auth.ProductOwner && !owner,
		Withdraw: (owner || a.Role == auth.Admin) && can(ActWithdraw),
	}
	if st != InReview || owner || v.row(a.Role) == nil {
		return out
	}
	for _, so := range v.SignOffs {
		if so.Reviewer == a.ID && so.Revision == p.Revision {
			out.Answered = true
		}
	}
	out.SignOff = !out.Answered
	out.Approve = out.SignOff && !v.waitsForPrivacy(a.Role)
	return out
}

// waitsForPrivacy: role follows privacy/technical review, which has not
// approved yet.
func (v *View) waitsForPrivacy(role auth.Role) bool {
	if role != auth.LegalReviewer && role != auth.SecurityReviewer {
		return false
	}
	pr := v.row(auth.PrivacyReviewer)
	return pr != nil && pr.Approval == nil
}

// WaitsForPrivacy reports whether row's role must wait for privacy/technical
// review before it approves.
func (v *View) WaitsForPrivacy(row MatrixRow) bool { return v.waitsForPrivacy(row.Role) }

// WaitingOn reports whether the proposal waits for a's sign-off: it is in
// review, needs a's role, no approval for that role counts yet, and a did
// not propose it.
func (v *View) WaitingOn(a Actor) bool {
	if workflow.State(v.Proposal.State) != InReview || a.ID == v.Proposal.Owner {
		return false
	}
	row := v.row(a.Role)
	return row != nil && row.Approval == nil
}
