package server

import (
	"github.com/steward-privacy/steward/internal/incident"
	incidentapi "github.com/steward-privacy/steward/internal/incident/api"
)

// incidentReportRoutes adds the reports drafted from an incident: the
// Art. 33(3) notification to the authority (JSON, Markdown, a printable
// page) and the Art. 34 communication, read by incident managers and
// auditors; describing and sending are the incident managers'. The
// literal last segments win over POST /v1/incidents/{id}/{action}.
func (s *Server) incidentReportRoutes(api *incidentapi.API) {
	s.handle("GET /v1/incidents/{id}/report/authority.json", incident.Readers, hf(api.AuthorityJSON))
	s.handle("GET /v1/incidents/{id}/report/authority.md", incident.Readers, hf(api.AuthorityMarkdown))
	s.handle("GET /v1/incidents/{id}/report/authority.html", incident.Readers, hf(api.AuthorityHTML))
	s.handle("GET /v1/incidents/{id}/communication.md", incident.Readers, hf(api.CommunicationMarkdown))
	s.handle("POST /v1/incidents/{id}/describe", incident.Managers, hf(api.Describe))
	s.handle("POST /v1/incidents/{id}/communicate", incident.Managers, hf(api.Communicate))
}
