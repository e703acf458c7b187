package server

import (
	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/notice"
	webnotice "github.com/steward-privacy/steward/internal/web/notice"
	"github.com/steward-privacy/steward/internal/web/portal"
)

// noticeRoutes serves the public privacy notice, its history and
// disclaimers, GPC's support resource and the records of processing.
func (s *Server) noticeRoutes() {
	p := &webnotice.Pages{Service: s.Notice, Languages: s.Languages, PublicURL: app.PublicURL(s.Config),
		Clock: s.Clock.Now, Log: s.Log}
	site := s.Rights.Config.Controller
	s.publicPage("GET /privacy", site, hf(p.InForce))
	s.publicPage("GET /privacy/history", site, hf(p.History))
	s.publicPage("GET /privacy/history/{n}", site, hf(p.Version))
	s.handle("GET /privacy.json", nil, hf(p.JSON))
	s.handle("GET /privacy/disclaimers/{file}", nil, hf(p.Disclaimer))
	// Served only when collection honours GPC: the resource is a promise.
	if consent.Honours(consent.GPC) {
		s.handle("GET /.well-known/gpc.json", nil, hf(p.GPC))
	}
	s.handle("GET /v1/records", notice.RecordsReaders, hf(p.Records))
	records := &portal.Records{Notice: s.Notice, Languages: s.Languages, Clock: s.Clock.Now, Log: s.Log}
	s.page("GET /admin/records", notice.RecordsReaders, hf(records.Show))
}
