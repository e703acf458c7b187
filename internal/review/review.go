// Package review is the data collection review (seed 000): a proposal is
// a registry file diffed against the approved version; the highest
// category among its changes decides whose sign-off it needs; disputes
// go to a product owner; approval publishes the next registry version.
// Nothing reaches the registry in force, and so nothing is collected,
// without it. docs/review.md describes the process.
package review

import (
	"errors"
	"fmt"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/workflow"
)

// States of a proposal.
const (
	Draft     workflow.State = "draft"
	InReview  workflow.State = "in_review"
	Approved  workflow.State = "approved"
	Rejected  workflow.State = "rejected"
	Escalated workflow.State = "escalated"
	Decided   workflow.State = "decided"
	Withdrawn workflow.State = "withdrawn"
)

// Actions on a proposal.
const (
	ActSubmit         workflow.Action = "submit"
	ActRequestChanges workflow.Action = "request_changes"
	ActApprove        workflow.Action = "approve"
	ActReject         workflow.Action = "reject"
	ActEscalate       workflow.Action = "escalate"
	ActDecide         workflow.Action = "decide"
	ActWithdraw       workflow.Action = "withdraw"
	// ActOverride approves a start-up file without review, on an
	// operator's explicit word (serve --approve-registry REASON).
	ActOverride workflow.Action = "override"
)

// Lifecycle is the proposal's transition table.
var Lifecycle = workflow.MustTable("proposal",
	[]workflow.State{Draft, InReview, Approved, Rejected, Escalated, Decided, Withdrawn},
	workflow.Transition{Action: ActSubmit, From: Draft, To: InReview},
	workflow.Transition{Action: ActRequestChanges, From: InReview, To: Draft},
	workflow.Transition{Action: ActApprove, From: InReview, To: Approved},
	workflow.Transition{Action: ActReject, From: InReview, To: Rejected},
	workflow.Transition{Action: ActEscalate, From: Draft, To: Escalated},
	workflow.Transition{Action: ActEscalate, From: InReview, To: Escalated},
	workflow.Transition{Action: ActDecide, From: Escalated, To: Decided},
	workflow.Transition{Action: ActWithdraw, From: Draft, To: Withdrawn},
	workflow.Transition{Action: ActWithdraw, From: InReview, To: Withdrawn},
	workflow.Transition{Action: ActWithdraw, From: Escalated, To: Withdrawn},
	workflow.Transition{Action: ActOverride, From: Draft, To: Approved},
)

// Open lists the states in which a proposal is still under review: its
// fields are answered "under review" at collection.
var Open = []workflow.State{Draft, InReview, Escalated}

// Actor is the person or credential acting.
type Actor struct {
	// ID is an account's e-mail, a directory login, or "token:NAME".
	ID   string
	Role auth.Role
}

func (a Actor) String() string { return a.ID + " (" + string(a.Role) + ")" }

// Reviewer roles, in the order seed 000 has them sign: privacy/technical
// review is a prerequisite of legal/trust and security.
var (
	reviewerRoles = []auth.Role{auth.DataSteward, auth.PrivacyReviewer, auth.LegalReviewer, auth.SecurityReviewer}
	// ProposerRoles may propose changes: people who build or own a product.
	ProposerRoles = []auth.Role{auth.Admin, auth.DataSteward, auth.PrivacyReviewer, auth.LegalReviewer,
		auth.SecurityReviewer, auth.ProductOwner, auth.Analyst}
	// ReaderRoles may read proposals and their documents.
	ReaderRoles = append(append([]auth.Role(nil), ProposerRoles...), auth.Auditor)
)

// RoleTitle names a role as the review process does.
func RoleTitle(r auth.Role) string {
	switch r {
	case auth.DataSteward:
		return "data steward"
	case auth.PrivacyReviewer:
		return "privacy/technical review"
	case auth.LegalReviewer:
		return "legal/trust review"
	case auth.SecurityReviewer:
		return "security review"
	case auth.ProductOwner:
		return "product owner"
	}
	return string(r)
}

// Errors the API and pages map onto specific answers.
var (
	// ErrNoChange: the proposal changes nothing in the approved registry.
	ErrNoChange = errors.New("the proposal changes nothing in the approved registry")
	// ErrStale: the caller acted on a revision that is no longer current.
	ErrStale = errors.New("the proposal was revised since you read it")
)

// ForbiddenError is an action the actor may not take on this proposal.
type ForbiddenError struct{ Reason string }

func (e *ForbiddenError) Error() string { return e.Reason }

func forbidden(f string, a ...any) error { return &ForbiddenError{Reason: fmt.Sprintf(f, a...)} }

// InvalidError is input that cannot be taken as it is.
type InvalidError struct{ Problems []string }

func (e *InvalidError) Error() string { return strings.Join(e.Problems, "; ") }

func invalid(f string, a ...any) error {
	return &InvalidError{Problems: []string{fmt.Sprintf(f, a...)}}
}
