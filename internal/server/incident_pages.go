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
}
