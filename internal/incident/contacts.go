package incident

import (
	"context"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
)

// contacts are the affected people steward can write to: those whose
// data subject request holds an e-mail address they confirmed (the link
// in the confirmation mail), matched by subject key. A request's own key
// (domain dsr-subject) matches reads of requests; the keys its e-mail
// address and ids hash to as collection stores events (domain subject,
// as the erasure connector computes them) match reads of events.
type contacts struct {
	// Emails are the addresses to write to, each once, sorted.
	Emails []string
	// Matched counts the blast radius's keys that have an address.
	Matched int
}

const requestPage = 500

func (s *Service) findContacts(ctx context.Context, keys []string) (contacts, error) {
	if len(keys) == 0 {
		return contacts{}, nil
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	matched := map[string]bool{}
	emails := map[string]bool{}
	for off := 0; ; off += requestPage {
		page, _, err := s.Store.ListRequests(ctx, store.RequestFilter{Offset: off, Limit: requestPage})
		if err != nil {
			return contacts{}, err
		}
		for _, r := range page {
			if r.Email == "" || r.EmailConfirmedAt.IsZero() {
				continue // an address nobody confirmed may not be the person's
			}
			hit := false
			for _, k := range s.requestKeys(r) {
				if want[k] {
					matched[k], hit = true, true
				}
			}
			if hit {
				emails[subject.Normalise(subject.Email, r.Email)] = true
			}
		}
		if len(page) < requestPage {
			break
		}
	}
	out := contacts{Matched: len(matched)}
	for e := range emails {
		out.Emails = append(out.Emails, e)
	}
	slices.Sort(out.Emails)
	return out, nil
}

func (s *Service) requestKeys(r store.Request) []string {
	out := []string{r.SubjectKey}
	if s.Keyer != nil {
		out = append(out, subject.Keys(s.Keyer, subject.Email, r.Email)...)
		for _, id := range []string{r.AccountID, r.AppUserID, r.GleanClientID} {
			if strings.TrimSpace(id) != "" {
				out = append(out, subject.AnyKeys(s.Keyer, id)...)
			}
		}
	}
	return out
}
