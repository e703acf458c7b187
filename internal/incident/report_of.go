package incident

import "github.com/steward-privacy/steward/internal/store"

// AuthorityReportOf drafts the Art. 33(3) notification from an incident
// and its history already read (the portal's incident page, which shows
// what the report still lacks), so the page reads nothing twice.
func (s *Service) AuthorityReportOf(inc store.Incident, hist []store.IncidentEvent) AuthorityReport {
	return s.authorityReport(inc, hist)
}

// CommunicationOf drafts the Art. 34 communication from an incident
// already read.
func (s *Service) CommunicationOf(inc store.Incident) Communication { return s.communication(inc) }
