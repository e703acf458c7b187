package rights

import "github.com/steward-privacy/steward/internal/store"

// EmailSubjectKey is the subject key of a person known by e-mail address,
// as their requests carry it, so a view of their mail elsewhere (the
// local mailbox) is found in the access log with their requests.
func (s *Service) EmailSubjectKey(email string) string {
	return s.subjectKey(store.Request{Email: email})
}
