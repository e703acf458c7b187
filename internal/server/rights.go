package server

import (
	"context"
	nethttp "net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/connectors"
	"github.com/steward-privacy/steward/internal/ratelimit"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/rightsapi"
	"github.com/steward-privacy/steward/internal/web/portal"
	"github.com/steward-privacy/steward/internal/web/static"
	"github.com/steward-privacy/steward/internal/web/subject"
)

// buildRights assembles data subject requests: the rules, the connectors
// and the pages and endpoints that serve them.
func (s *Server) buildRights(cfg *config.Config, reg *registry.Registry, ips clientip.Resolver) error {
	public := strings.TrimSuffix(cfg.PublicURL, "/")
	if public == "" {
		public = "http://" + cfg.Addr
	}
	rc := rights.DefaultConfig(public)
	rc.ExportDir = filepath.Join(cfg.DataDir, "exports")
	events := &connectors.Events{Store: s.Store, Keyer: s.Keyer, Registry: reg}
	set, err := connectors.Load(cfg.Rights, &rc, events)
	if err != nil {
		return err
	}
	s.connectors = set
	s.Rights = &rights.Service{Store: s.Store, Keyer: s.Keyer, Clock: s.Clock, Log: s.Log, Config: rc,
		Identity: set.Identity, Connectors: set.List, Wake: s.Notify.Wake}
	s.subject = &subject.Pages{Rights: s.Rights, Access: s.access, IPs: ips, Log: s.Log}
	if cfg.RequestsPerHour > 0 {
		s.subject.Intake = ratelimit.New(float64(cfg.RequestsPerHour)/3600, cfg.RequestsPerHour)
	}
	s.portal = &portal.Portal{Rights: s.Rights, Access: s.access, IPs: ips, Log: s.Log}
	s.rightsAPI = &rightsapi.API{Rights: s.Rights, FacebookSecret: cfg.FacebookAppSecret, FacebookMaxAge: time.Hour,
		Webhooks: set.Webhooks, Log: s.Log}
	return nil
}

func (s *Server) rightsRoutes() {
	p, api := s.subject, s.rightsAPI
	site := s.Rights.Config.Controller
	s.handle("GET /static/", nil, static.Handler())
	s.publicPage("GET /privacy/requests/new", site, hf(p.New))
	s.publicPage("POST /privacy/requests", site, hf(p.Create))
	s.publicPage("GET /privacy/requests/{id}", site, hf(p.Status))
	s.publicPage("GET /privacy/requests/{id}/confirm", site, hf(p.ConfirmPage))
	s.publicPage("POST /privacy/requests/{id}/confirm", site, hf(p.Confirm))
	s.publicPage("POST /privacy/requests/{id}/answer", site, hf(p.Answer))
	s.publicPage("GET /privacy/requests/{id}/export", site, hf(p.Export))
	staff := []auth.Role{auth.Support, auth.Admin}
	s.page("GET /admin/requests", staff, hf(s.portal.List))
	s.page("GET /admin/requests/{id}", staff, hf(s.portal.Detail))
	s.page("POST /admin/requests/{id}/{action}", staff, hf(s.portal.Act))
	s.handle("POST /v1/requests", []auth.Role{auth.App}, hf(api.Create))
	s.handle("POST /callbacks/facebook/data-deletion", nil, hf(api.Facebook))
	s.handle("POST /callbacks/connectors/{name}", nil, hf(api.Completion))
}

// tickRights runs the requests' calendar at start (resuming executions a
// crash interrupted) and then once a minute.
func (s *Server) tickRights(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := s.Rights.Tick(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("requests: scheduled work failed", "err", err)
		}
		s.sweepSessions(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func hf(f func(nethttp.ResponseWriter, *nethttp.Request)) nethttp.Handler {
	return nethttp.HandlerFunc(f)
}
