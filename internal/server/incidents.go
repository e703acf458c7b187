package server

import (
	"context"

	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/incident"
	incidentapi "github.com/steward-privacy/steward/internal/incident/api"
)

// incidentRoutes adds the breach engine's API: the register and each
// incident are read by incident managers and auditors (a DPO signs in as
// an auditor); only incident managers act.
func (s *Server) incidentRoutes(ips clientip.Resolver) {
	api := &incidentapi.API{Incidents: s.Incidents, Access: s.Access, IPs: ips, Clock: s.Clock, Log: s.Log}
	s.handle("GET /v1/incidents", incident.Readers, hf(api.List))
	s.handle("POST /v1/incidents", incident.Managers, hf(api.Create))
	s.handle("GET /v1/incidents/register", incident.Readers, hf(api.Register))
	s.handle("GET /v1/incidents/{id}", incident.Readers, hf(api.Get))
	s.handle("GET /v1/incidents/{id}/severity", incident.Readers, hf(api.GetSeverity))
	s.handle("POST /v1/incidents/{id}/severity", incident.Managers, hf(api.PostSeverity))
	s.handle("POST /v1/incidents/{id}/window", incident.Managers, hf(api.Window))
	s.handle("POST /v1/incidents/{id}/{action}", incident.Managers, hf(api.Act))
	s.incidentReportRoutes(api)
	s.Ticker.Add("incident clocks", s.Incidents.TickClocks)
	s.Ticker.Add("incident blast radius", s.Incidents.DefaultBlasts)
}

// runMonitor checks the access log until ctx ends, on the node that holds
// the monitor's lease.
func (s *Server) runMonitor(ctx context.Context) {
	if s.Config.MonitorOff {
		return
	}
	s.Monitor.Run(ctx, s.Config.MonitorEvery)
}
