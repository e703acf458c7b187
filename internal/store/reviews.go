package store

import (
	"context"
	"time"
)

// Proposal is a data collection review: a registry file proposed as the
// next version, the answers to the review request's questions, and where
// the review stands. internal/review owns the rules; this is what is kept.
type Proposal struct {
	ID    int64
	Title string
	// Owner is the proposer (an account's e-mail or "token:NAME").
	Owner string
	Links []string
	State string
	// BaseVersion is the registry version the proposal was diffed against.
	BaseVersion int64
	// YAML is the proposed registry file; Revision counts its changes
	// (1 when proposed), so a sign-off names what it read.
	YAML     []byte
	Digest   string
	Revision int
	// Answers holds the proposer's answers to the request's questions,
	// by question key.
	Answers map[string]string
	// MaxCategory and Required are the highest category among the changes
	// and the roles whose sign-off they need, kept for the list's filters.
	MaxCategory int
	Required    []string
	// Override is the operator's reason when the proposal was approved
	// without review at start-up ("" for a reviewed one).
	Override string
	// Published is the registry version the approval produced (0 before).
	Published int64
	CreatedAt time.Time
	UpdatedAt time.Time
	StateAt   time.Time
	Version   int64
}

// ProposalEvent is one line of a proposal's history.
type ProposalEvent struct {
	ProposalID int64
	At         time.Time
	Actor      string
	Action     string
	From, To   string
	Note       string
}

// SignOff is one reviewer's answer for one role on one revision.
type SignOff struct {
	ID         int64
	ProposalID int64
	Revision   int
	Role       string
	Reviewer   string
	// Decision is approve, request_changes or reject.
	Decision string
	// Checklist answers the reviewer's questions, by key.
	Checklist   map[string]string
	Note        string
	Mitigations []string
	// Covered is the fingerprint of every change the reviewer saw, by
	// "dataset" or "dataset.field", so a revision shows what changed since.
	Covered map[string]string
	At      time.Time
}

// ReviewNote is written text on a proposal that is not a sign-off: a
// party's recommended approach in an escalation, a comment, the product
// owner's decision.
type ReviewNote struct {
	ID         int64
	ProposalID int64
	// Kind is position, comment or decision.
	Kind   string
	Author string
	Role   string
	Text   string
	At     time.Time
}

// ProposalQuery filters the list; zero values match everything.
type ProposalQuery struct {
	States []string
	Owner  string
	// MinCategory keeps proposals whose highest category is at least this.
	MinCategory int
	// Role keeps proposals that require this role's sign-off.
	Role   string
	Limit  int
	Before int64 // ID < Before when > 0 (newest first)
}

// Reviews keeps data collection reviews.
type Reviews interface {
	// GetProposal returns ErrNotFound for an unknown id.
	GetProposal(ctx context.Context, id int64) (Proposal, error)
	// ListProposals returns matching proposals, newest first.
	ListProposals(ctx context.Context, q ProposalQuery) ([]Proposal, error)
	ProposalHistory(ctx context.Context, id int64) ([]ProposalEvent, error)
	// ListSignOffs returns a proposal's sign-offs, oldest first.
	ListSignOffs(ctx context.Context, id int64) ([]SignOff, error)
	ListReviewNotes(ctx context.Context, id int64) ([]ReviewNote, error)
}

// ReviewTx is what a review's change of state writes in one transaction.
type ReviewTx interface {
	// CreateProposal assigns p.ID.
	CreateProposal(ctx context.Context, p *Proposal) error
	// UpdateProposal stores p if its stored version is still p.Version
	// (else ErrConflict) and advances p.Version.
	UpdateProposal(ctx context.Context, p *Proposal) error
	AppendProposalEvent(ctx context.Context, ev ProposalEvent) error
	// AddSignOff stores s; ErrConflict when the same reviewer already
	// answered for this revision.
	AddSignOff(ctx context.Context, s SignOff) error
	AddReviewNote(ctx context.Context, n ReviewNote) error
	// MarkExpiryNotice records that the owner of key ("dataset" or
	// "dataset.field") is told it expires on expires; false when that was
	// already recorded (by this node or another), so each notice goes
	// once, in the transaction that enqueues it.
	MarkExpiryNotice(ctx context.Context, key string, expires time.Time, at time.Time) (bool, error)
	// PublishRegistryVersion stores v as the next registry version and
	// returns its number; the approval that causes it commits with it.
	PublishRegistryVersion(ctx context.Context, v RegistryVersion) (int64, error)
}
