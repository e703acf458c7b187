package server

import (
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/web/portal"
)

// incidentPages adds the breach engine's portal pages: the register and
// each incident for incident managers and auditors (a DPO signs in as an
// auditor), the forms for incident managers only. The incident service
// decides each action again. /admin/incidents/{id} is the link of every
// detection e-mail.
func (s *Server) incidentPages(ips clientip.Resolver) {
	p := &portal.Incidents{Service: s.Incidents, Access: s.Access, IPs: ips, Log: s.Log}
	s.page("GET /admin/incidents", incident.Readers, hf(p.List))
	s.page("GET /admin/incidents/new", incident.Managers, hf(p.New))
	s.page("POST /admin/incidents", incident.Managers, hf(p.Create))
	s.page("GET /admin/incidents/{id}", incident.Readers, hf(p.Detail))
	s.page("POST /admin/incidents/{id}/{action}", incident.Managers, hf(p.Act))
	// The assessment's forms and the drafts: the /v1 API takes bearer
	// tokens only, so a browser reads the drafts and the register export
	// here, through the same service functions, each read logged. The
	// literal segments win over {action} and {id}.
	s.page("POST /admin/incidents/{id}/severity", incident.Managers, hf(p.Assess))
	s.page("POST /admin/incidents/{id}/window", incident.Managers, hf(p.Window))
	s.page("POST /admin/incidents/{id}/describe", incident.Managers, hf(p.Describe))
	s.page("POST /admin/incidents/{id}/communicate", incident.Managers, hf(p.Communicate))
	s.page("GET /admin/incidents/{id}/report/authority.html", incident.Readers, hf(p.AuthorityHTML))
	s.page("GET /admin/incidents/{id}/report/authority.md", incident.Readers, hf(p.AuthorityMarkdown))
	s.page("GET /admin/incidents/{id}/report/authority.json", incident.Readers, hf(p.AuthorityJSON))
	s.page("GET /admin/incidents/{id}/communication.md", incident.Readers, hf(p.CommunicationMarkdown))
	s.page("GET /admin/incidents/register.csv", incident.Readers, hf(p.RegisterCSV))
	s.page("GET /admin/incidents/register.json", incident.Readers, hf(p.RegisterJSON))
}
