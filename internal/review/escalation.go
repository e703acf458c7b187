package review

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Note kinds.
const (
	NotePosition = "position"
	NoteComment  = "comment"
	NoteDecision = "decision"
)

// party reports whether actor is the proposer or a reviewer of p.
func party(p store.Proposal, actor Actor) bool {
	return owns(p, actor) || slices.Contains(reviewerRoles, actor.Role)
}

// Escalate takes a dispute to a product owner (seed 000's escalation):
// the escalating party's recommended approach is its first written
// position, and every party is asked for theirs.
func (s *Service) Escalate(ctx context.Context, actor Actor, id int64, position string) (store.Proposal, error) {
	p, err := s.load(ctx, id, 0)
	if err != nil {
		return p, err
	}
	if !party(p, actor) {
		return p, forbidden("only the proposer or a reviewer escalates a proposal")
	}
	if position = strings.TrimSpace(position); position == "" {
		return p, invalid("escalate: write down the approach you recommend; it is your position in the dispute")
	}
	n := store.ReviewNote{ProposalID: p.ID, Kind: NotePosition, Author: actor.ID, Role: string(actor.Role), Text: position, At: s.now()}
	recipients := append(s.people(ctx, auth.ProductOwner), s.parties(ctx, p, nil)...)
	out := s.tell(ctx, p, recipients, fmt.Sprintf("Proposal %d escalated to a product owner", p.ID),
		fmt.Sprintf("%s escalated proposal %d (%s) to a product owner. Their recommended approach:\n\n%s\n\nEvery party: record your recommended approach on the proposal's page; the product owner records the final decision.\n",
			actor, p.ID, p.Title, position))
	return s.machine().FireAlso(ctx, p, ActEscalate, actor.ID, "escalated: "+position, addNote(n), out...)
}

func addNote(n store.ReviewNote) workflow.Also[store.Proposal] {
	return func(ctx context.Context, tx store.Tx, _ *store.Proposal) error { return tx.AddReviewNote(ctx, n) }
}

// Comment records a party's recommended approach (position) or a comment
// in an escalated proposal, and tells the others.
func (s *Service) Comment(ctx context.Context, actor Actor, id int64, kind, text string) (store.Proposal, error) {
	p, err := s.load(ctx, id, 0)
	if err != nil {
		return p, err
	}
	if kind != NotePosition && kind != NoteComment {
		return p, invalid("kind: %q is not position or comment", kind)
	}
	if workflow.State(p.State) != Escalated {
		return p, &StateError{ID: p.ID, State: p.State, Want: "positions and comments are taken while it is escalated"}
	}
	if !party(p, actor) && actor.Role != auth.ProductOwner {
		return p, forbidden("only the proposer, a reviewer or a product owner writes on an escalated proposal")
	}
	if text = strings.TrimSpace(text); text == "" {
		return p, invalid("%s: the text is empty", kind)
	}
	n := store.ReviewNote{ProposalID: p.ID, Kind: kind, Author: actor.ID, Role: string(actor.Role), Text: text, At: s.now()}
	recipients := append(s.people(ctx, auth.ProductOwner), s.parties(ctx, p, nil)...)
	out := s.tell(ctx, p, without(recipients, actor.ID), fmt.Sprintf("Proposal %d: a new %s", p.ID, kind),
		fmt.Sprintf("%s wrote a %s on escalated proposal %d (%s):\n\n%s\n", actor, kind, p.ID, p.Title, text))
	return s.machine().NoteAlso(ctx, p, actor.ID, actor.String()+" wrote a "+kind, addNote(n), out...)
}

// Decide records the product owner's final decision with its reasoning
// and closes the dispute; "approve" publishes the proposal.
func (s *Service) Decide(ctx context.Context, actor Actor, id int64, outcome, reasoning string) (store.Proposal, error) {
	if actor.Role != auth.ProductOwner {
		return store.Proposal{}, forbidden("only a product owner decides an escalated proposal; role %s may not", actor.Role)
	}
	if outcome != DecisionApprove && outcome != DecisionReject {
		return store.Proposal{}, invalid("outcome: %q is not approve or reject", outcome)
	}
	if reasoning = strings.TrimSpace(reasoning); reasoning == "" {
		return store.Proposal{}, invalid("decide: record the reasoning behind the decision")
	}
	return retry(ctx, func() (store.Proposal, error) {
		p, err := s.load(ctx, id, 0)
		if err != nil {
			return p, err
		}
		if workflow.State(p.State) != Escalated {
			return p, &StateError{ID: p.ID, State: p.State, Want: "only an escalated proposal is decided"}
		}
		if owns(p, actor) {
			return p, forbidden("a proposer cannot decide their own proposal")
		}
		v, err := s.View(ctx, p)
		if err != nil {
			return p, err
		}
		n := store.ReviewNote{ProposalID: p.ID, Kind: NoteDecision, Author: actor.ID, Role: string(actor.Role), Text: outcome + ": " + reasoning, At: s.now()}
		word := map[string]string{DecisionApprove: "approved", DecisionReject: "rejected"}[outcome]
		out := s.tell(ctx, p, s.parties(ctx, p, v), fmt.Sprintf("Proposal %d decided: %s", p.ID, word),
			fmt.Sprintf("%s, product owner, %s proposal %d (%s):\n\n%s\n", actor.ID, word, p.ID, p.Title, reasoning))
		note := "product owner " + word + ": " + reasoning
		if outcome == DecisionReject {
			return s.machine().FireAlso(ctx, p, ActDecide, actor.ID, note, addNote(n), out...)
		}
		if v.Moved {
			return p, invalid("the registry was approved at a newer version since proposal %d was made; the proposer must revise it before it can be published", p.ID)
		}
		_, head := s.current()
		pub, err := s.prepare(p, "product owner "+actor.ID, fmt.Sprintf("proposal %d (%s), decided by the product owner after escalation", p.ID, p.Title))
		if err != nil {
			return p, err
		}
		next, err := s.machine().FireAlso(ctx, p, ActDecide, actor.ID, note, chain(addNote(n), pub.also(head)), out...)
		return next, s.after(ctx, pub, err)
	})
}

// Override approves a proposal without review on an operator's explicit
// word (a start-up file with --approve-registry REASON). The history, the
// registry version and the review document all say so.
func (s *Service) Override(ctx context.Context, id int64, reason string) (store.Proposal, error) {
	if reason = strings.TrimSpace(reason); reason == "" {
		return store.Proposal{}, invalid("an override needs a reason")
	}
	return retry(ctx, func() (store.Proposal, error) {
		p, err := s.load(ctx, id, 0)
		if err != nil {
			return p, err
		}
		p.Override = reason
		_, head := s.current()
		pub, err := s.prepare(p, "operator (override)", fmt.Sprintf("proposal %d approved by operator override without review: %s", p.ID, reason))
		if err != nil {
			return p, err
		}
		next, err := s.machine().FireAlso(ctx, p, ActOverride, "operator", "approved by operator override, without review: "+reason, pub.also(head))
		return next, s.after(ctx, pub, err)
	})
}
