package server

import (
	"context"
	nethttp "net/http"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/ratelimit"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/rightsapi"
	"github.com/steward-privacy/steward/internal/web/portal"
	"github.com/steward-privacy/steward/internal/web/static"
	"github.com/steward-privacy/steward/internal/web/subject"
	"github.com/steward-privacy/steward/internal/workflow"
)

// buildRights adds the pages and endpoints of data subject requests to
// the service package app built.
func (s *Server) buildRights(cfg *config.Config, ips clientip.Resolver) {
	s.subject = &subject.Pages{Rights: s.Rights, Registry: s.Registry, Access: s.Access, IPs: ips, Log: s.Log}
	if cfg.RequestsPerHour > 0 {
		s.subject.Intake = ratelimit.New(float64(cfg.RequestsPerHour)/3600, cfg.RequestsPerHour)
	}
	s.subject.LocalMailbox = s.Mailbox != nil
	s.portal = &portal.Portal{Rights: s.Rights, Access: s.Access, IPs: ips, Log: s.Log, Volume: s.volume, Registry: s.Registry, LocalMailbox: s.Mailbox != nil}
	s.mailbox = &portal.Mailbox{SMTPHost: cfg.SMTP.Host, SubjectKey: s.Rights.EmailSubjectKey,
		Access: s.Access, IPs: ips, Clock: s.Clock, Log: s.Log}
	if s.Mailbox != nil {
		s.mailbox.Dir = s.Mailbox.Dir
	}
	s.rightsAPI = &rightsapi.API{Rights: s.Rights, FacebookSecret: cfg.FacebookAppSecret, FacebookMaxAge: time.Hour,
		Webhooks: s.Connectors.Webhooks, Log: s.Log}
	s.Ticker = &workflow.Ticker{Interval: time.Minute, Log: s.Log}
	s.Ticker.Add("requests", s.Rights.Tick)
	s.Ticker.Add("sessions", func(ctx context.Context) error { s.sweepSessions(ctx); return nil })
}

func (s *Server) rightsRoutes() {
	p, api := s.subject, s.rightsAPI
	site := s.Rights.Config.Controller
	s.handle("GET /static/", nil, static.Handler())
	s.handle("GET /favicon.ico", nil, static.Favicon())
	s.publicPage("GET /privacy/requests/new", site, hf(p.New))
	s.publicPage("POST /privacy/requests", site, hf(p.Create))
	s.publicPage("GET /privacy/requests/{id}", site, hf(p.Status))
	s.publicPage("GET /privacy/requests/{id}/confirm", site, hf(p.ConfirmPage))
	s.publicPage("POST /privacy/requests/{id}/confirm", site, hf(p.Confirm))
	s.publicPage("POST /privacy/requests/{id}/answer", site, hf(p.Answer))
	s.publicPage("GET /privacy/requests/{id}/export", site, hf(p.Export))
	s.publicPage("GET /privacy/requests/{id}/receipt", site, hf(p.Receipt))
	s.handle("GET "+rights.ReceiptKeyPath, nil, hf(p.ReceiptKey))
	s.handle("GET "+strings.TrimSuffix(rights.ReceiptKeyPath, ".pem")+".jwk", nil, hf(p.ReceiptKey))
	staff := rights.Workers
	s.page("GET /admin/requests", staff, hf(s.portal.List))
	s.page("GET /admin/requests/trends", staff, hf(s.portal.Trends))
	s.page("GET /admin/collection", []auth.Role{auth.Admin, auth.DataSteward}, hf(s.portal.Collection))
	s.page("GET /admin/requests/{id}", staff, hf(s.portal.Detail))
	s.page("POST /admin/requests/{id}/{action}", staff, hf(s.portal.Act))
	s.page("GET /admin/mail", staff, hf(s.mailbox.List))
	s.page("GET /admin/mail/{id}", staff, hf(s.mailbox.Show))
	s.handle("POST /v1/requests", []auth.Role{auth.App}, hf(api.Create))
	s.handle("POST /callbacks/facebook/data-deletion", nil, hf(api.Facebook))
	s.handle("POST /callbacks/connectors/{name}", nil, hf(api.Completion))
}

// tickRights runs the calendar's work at start (resuming executions a
// crash interrupted) and then once a minute: the requests' deadlines and
// executions, and the session sweep.
func (s *Server) tickRights(ctx context.Context) { s.Ticker.Run(ctx) }

func hf(f func(nethttp.ResponseWriter, *nethttp.Request)) nethttp.Handler {
	return nethttp.HandlerFunc(f)
}
