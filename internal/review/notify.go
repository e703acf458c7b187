package review

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store"
)

// people lists the e-mail addresses of the enabled local accounts holding
// role. Directory (LDAP) accounts have no stored address, so they are told
// through the review webhook, when one is set.
func (s *Service) people(ctx context.Context, role auth.Role) []string {
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		s.log().Error("review: cannot list accounts to notify", "role", role, "err", err)
		return nil
	}
	var out []string
	for _, u := range users {
		if u.Role == string(role) && u.DisabledAt.IsZero() {
			out = append(out, u.Email)
		}
	}
	return out
}

// requiredPeople lists everyone holding a role the proposal needs, but
// its proposer.
func (s *Service) requiredPeople(ctx context.Context, req []Requirement, owner string) []string {
	var out []string
	for _, r := range req {
		out = append(out, s.people(ctx, r.Role)...)
	}
	return without(out, owner)
}

// parties are the proposer, everyone who answered, and everyone holding a
// required role.
func (s *Service) parties(ctx context.Context, p store.Proposal, v *View) []string {
	out := []string{p.Owner}
	var req []Requirement
	for _, r := range p.Required {
		req = append(req, Requirement{Role: auth.Role(r)})
	}
	out = append(out, s.requiredPeople(ctx, req, "")...)
	if v != nil {
		for _, so := range v.SignOffs {
			out = append(out, so.Reviewer)
		}
	}
	return out
}

func without(list []string, who string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == who })
}

// tell builds the messages of one notification: an e-mail to each
// distinct address (tokens have none) and one webhook call.
func (s *Service) tell(_ context.Context, p store.Proposal, to []string, subject, body string) []store.OutboxMessage {
	link := fmt.Sprintf("%s/admin/reviews/%d", strings.TrimSuffix(s.PublicURL, "/"), p.ID)
	body += "\n" + link + "\n"
	now := s.now()
	ref := fmt.Sprintf("proposal:%d", p.ID)
	var out []store.OutboxMessage
	seen := map[string]bool{}
	for _, addr := range to {
		addr = strings.ToLower(strings.TrimSpace(addr))
		if !strings.Contains(addr, "@") || strings.HasPrefix(addr, "token:") || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, store.OutboxMessage{Kind: store.OutboxEmail, To: addr, Subject: subject, Body: body, Ref: ref, CreatedAt: now})
	}
	if s.Webhook != "" {
		doc, _ := json.Marshal(map[string]any{"event": "review", "proposal": p.ID, "title": p.Title,
			"subject": subject, "url": link})
		out = append(out, store.OutboxMessage{Kind: store.OutboxWebhook, To: s.Webhook, Body: string(doc), Ref: ref, CreatedAt: now})
	}
	return out
}
