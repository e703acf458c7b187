// Package server assembles steward: it opens the store, loads the registry
// and the hashing key, wires every component's handlers onto one mux and
// runs the background workers.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/auditapi"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/collect"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/csrf"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/readapi"
	"github.com/steward-privacy/steward/internal/retention"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/rightsapi"
	"github.com/steward-privacy/steward/internal/signin"
	"github.com/steward-privacy/steward/internal/store/backends"
	"github.com/steward-privacy/steward/internal/volume"
	"github.com/steward-privacy/steward/internal/web/portal"
	"github.com/steward-privacy/steward/internal/web/subject"
	"github.com/steward-privacy/steward/internal/web/ui"
	"github.com/steward-privacy/steward/internal/workflow"
	"github.com/steward-privacy/steward/sdk"
)

// Options are the parts tests replace; zero values mean the real thing.
type Options struct {
	Clock clock.Clock
	// Logger defaults to JSON on stderr at the configured level.
	Logger *slog.Logger
	// Argon2 is the cost of the hash checked for unknown accounts at
	// sign-in (tests lower it); zero means auth.DefaultArgon2.
	Argon2 auth.Argon2Params
}

// Server is one running steward node: the services of package app with
// HTTP on top.
type Server struct {
	*app.App

	handler http.Handler
	mux     *http.ServeMux
	routes  []Route
	authn   auth.Tokens
	// sessions signs staff in to steward's pages.
	sessions  auth.Sessions
	signin    *signin.Service
	subject   *subject.Pages
	portal    *portal.Portal
	mailbox   *portal.Mailbox
	rightsAPI *rightsapi.API
	batcher   *collect.Batcher
	// volume counts collection per dataset and day for the portal.
	volume    *volume.Tally
	metrics   *prometheus.Registry
	ready     bool
	readyMu   sync.RWMutex
	closeOnce sync.Once
	notifyEnd func() // stops the outbox worker and waits; nil until Start
	notifyMu  sync.Mutex
	// Ticker runs the work the calendar causes, for every domain, at start
	// and every minute; tests move the clock and call its Tick.
	Ticker *workflow.Ticker

	// origins refuses cross-origin form posts to every page (CSRF).
	origins *http.CrossOriginProtection
}

// New builds the services (migrating storage and putting the start-up
// registry in force) and the handler. It does not listen.
func New(ctx context.Context, cfg *config.Config, opt Options) (*Server, error) {
	log := opt.Logger
	if log == nil {
		log = NewLogger(cfg.LogLevel)
	}
	dataDir, _ := filepath.Abs(cfg.DataDir)
	log.Info("steward is starting", "data", dataDir, "database", backends.Describe(cfg.DB, cfg.DataDir))
	proxies, err := parsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, app.Options{Clock: opt.Clock, Logger: log, Serve: true})
	if err != nil {
		return nil, err
	}
	s := &Server{App: a}
	ua, err := minimise.NewUAParser()
	if err != nil {
		a.Close()
		return nil, err
	}

	s.metrics = prometheus.NewRegistry()
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cm := collect.NewMetrics(s.metrics)
	am := accesslog.NewMetrics(s.metrics)
	s.Access.SetMetrics(am)
	s.Checkpoints.Metrics = am
	s.Notify.Metrics = notify.NewMetrics(s.metrics, s.Store)
	s.Sweeper.Metrics = retention.NewMetrics(s.metrics)
	rights.RegisterMetrics(s.metrics, s.Rights)
	s.volume = &volume.Tally{Store: s.Store, Log: s.Log}
	cm.Days = s.volume
	s.batcher = collect.NewBatcher(s.Store, 1000, cfg.WriteQueue, cm.ObserveBatch)
	guard := csrf.New([]byte(s.Keyer.Hash("csrf", "v1")))
	guard.Secure = cfg.SecureCookies
	ips := clientip.Resolver{Trusted: proxies}
	col := &collect.Collector{
		Registry: s.Registry, Keyer: s.Keyer, UA: ua, IPs: ips, CSRF: guard, Batcher: s.batcher,
		Clock: s.Clock, Metrics: cm, Erased: s.Erased, UnderReview: s.Reviews.UnderReview, Log: s.Log,
		GleanDeletion: func(ctx context.Context, appID, clientID string) error {
			_, err := s.Rights.GleanDeletion(ctx, appID, clientID)
			return err
		},
		Config: collect.Config{
			MaxBody: cfg.MaxBody, Limits: collect.Limits{MaxBatch: cfg.MaxBatch},
			RatePerSecond: cfg.RatePerSecond, Burst: cfg.RateBurst,
		},
	}
	col.Init()
	read := &readapi.API{Registry: s.Registry, Store: s.Store, Policy: s.Policy, Keyer: s.Keyer, Access: s.Access, IPs: ips, Clock: s.Clock, Log: s.Log}
	audit := &auditapi.API{Store: s.Store, Registry: s.Registry, Keyer: s.Keyer, Access: s.Access, IPs: ips, Clock: s.Clock, Log: s.Log}
	s.authn = auth.Tokens{Store: s.Store, Clock: s.Clock, Log: s.Log}
	s.origins = pageOrigins(cfg.PublicURL, s.Log)
	if err := s.buildSignin(cfg, opt, ips); err != nil {
		s.batcher.Close()
		a.Close()
		return nil, err
	}
	s.buildRights(cfg, ips)
	s.Ticker.Add("access-log checkpoints", s.Checkpoints.Tick)
	s.Ticker.Add("review expiry notices", s.Reviews.NotifyExpiring)
	if err := s.pgauditSource(cfg); err != nil {
		s.batcher.Close()
		a.Close()
		return nil, err
	}
	if err := s.Reviews.RefreshPending(ctx); err != nil {
		s.Log.Warn("review: cannot read open proposals yet", "err", err)
	}

	mux := http.NewServeMux()
	s.mux = mux
	s.handle("GET /healthz", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	s.handle("GET /readyz", nil, http.HandlerFunc(s.readyz))
	s.handle("GET /metrics", nil, promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	s.handle("GET /sdk/steward.js", nil, sdk.Handler())

	s.handle("GET /v1/csrf", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := guard.Issue(w, r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "{\"token\":%q}\n", tok)
	}))
	s.handle("/v1/opt-out", nil, consent.Handler{CSRF: guard, Secure: cfg.SecureCookies})
	s.handle("POST /v1/collect/{dataset}", nil, http.HandlerFunc(col.ServeDataset))
	s.handle("OPTIONS /v1/collect/{dataset}", nil, http.HandlerFunc(col.ServeDataset))
	// Glean's submission path (docs/glean.md): open like collection.
	s.handle("POST /submit/{app_id}/{ping}/{schema_version}/{doc_id}", nil, http.HandlerFunc(col.ServeGlean))
	s.handle("OPTIONS /submit/{app_id}/{ping}/{schema_version}/{doc_id}", nil, http.HandlerFunc(col.ServeGlean))

	// Reading collected data is open at the door to every role a person
	// can hold; the read policy then decides per dataset, purpose and
	// field, and records the outcome either way. The app role is the
	// product backend's credential for submitting requests and reads
	// nothing, not even the datasets' descriptions (docs/roles.md).
	readers := auth.PersonRoles()
	s.handle("GET /v1/datasets", readers, http.HandlerFunc(read.Datasets))
	s.handle("GET /v1/datasets/{name}/events", readers, http.HandlerFunc(read.Events))
	s.handle("POST /v1/datasets/{name}/lookup", readers, http.HandlerFunc(read.Lookup))
	s.handle("GET /v1/access-log", accesslog.Readers, http.HandlerFunc(audit.List))
	s.handle("POST /v1/access-log/external", []auth.Role{auth.System}, http.HandlerFunc(audit.External))
	s.incidentRoutes(ips)
	s.rightsRoutes()
	s.reviewRoutes()
	s.reviewPages()
	s.incidentPages(ips)
	s.noticeRoutes()
	s.signinRoutes()
	s.handle("GET /v1/retention/sweeps", []auth.Role{auth.Admin, auth.DataSteward, auth.Auditor}, http.HandlerFunc(s.Sweeper.Handler))

	// Dataset path aliases come and go with registry versions, so they are
	// not mux routes: one dispatcher in front of the mux looks each POST
	// and OPTIONS up in the registry in force.
	s.routes = append(s.routes, Route{Pattern: AliasRoute})
	free := aliasesFree(mux)
	if err := free(s.Registry.Current()); err != nil {
		s.Close()
		return nil, err
	}
	s.Registry.Check(free)
	s.handler = chain(aliases(s.Registry, col, mux), s.Log, ips)
	s.setReady(true)
	return s, nil
}

// Route is one endpoint and who may call it.
type Route struct {
	Pattern string
	// Roles may call it; nil means anyone, signed in or not.
	Roles []auth.Role
	// Page routes take a browser session (and a CSRF form token on
	// writes); the others take an API bearer token. Every page, public or
	// not, also refuses cross-origin writes (see page and publicPage).
	Page bool
}

// Routes lists every endpoint with its roles. The authorization matrix test
// walks it, so an endpoint added without a row in the matrix fails.
func (s *Server) Routes() []Route { return s.routes }

// handle registers h; with roles it first requires a caller in one of them.
func (s *Server) handle(pattern string, roles []auth.Role, h http.Handler) {
	s.routes = append(s.routes, Route{Pattern: pattern, Roles: roles})
	if roles != nil {
		h = s.authn.Require(h, roles...)
	}
	s.mux.Handle(pattern, h)
}

// page registers a server-rendered page for signed-in staff in roles (any
// signed-in person when roles is empty but not nil). The cross-origin
// check runs first, so a forged post is refused before any session work.
func (s *Server) page(pattern string, roles []auth.Role, h http.Handler) {
	s.routes = append(s.routes, Route{Pattern: pattern, Roles: roles, Page: true})
	s.mux.Handle(pattern, ui.Protect(s.origins, "", s.sessions.RequirePage(h, roles...)))
}

// Handler is the complete HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Start runs the background workers until ctx ends or Close.
func (s *Server) Start(ctx context.Context) {
	go s.Registry.Watch(ctx, s.Config.RegistryPoll)
	go s.Reviews.WatchPending(ctx, s.Config.RegistryPoll)
	go s.Erased.Watch(ctx, s.Config.ErasurePoll)
	go s.Sweeper.Run(ctx)
	go s.tickRights(ctx)
	go s.volume.Run(ctx)
	go s.runMonitor(ctx)
	nctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Notify.Run(nctx); close(done) }()
	s.notifyMu.Lock()
	s.notifyEnd = func() { cancel(); <-done }
	s.notifyMu.Unlock()
}

// Serve listens on l until ctx ends, then shuts down gracefully: it stops
// taking requests, lets those in flight finish, and commits every event
// already queued before it returns.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	s.Start(ctx)
	reg := s.Registry.Current()
	s.Log.Info("steward is serving", "addr", l.Addr().String(), "backend", s.Store.Backend(),
		"registry", reg.Source, "datasets", len(reg.Datasets))
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.setReady(false)
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownWait)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.Close()
	s.Log.Info("steward stopped")
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: requests still running after %s", s.Config.ShutdownWait)
	}
	return nil
}

// Close flushes queued writes and closes the store.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.setReady(false)
		s.batcher.Close()
		s.lastVolume()
		s.lastCheckpoint()
		// The outbox worker finishes the message in hand and records it
		// before the store closes; its send timeout bounds the wait.
		s.notifyMu.Lock()
		end := s.notifyEnd
		s.notifyMu.Unlock()
		if end != nil {
			end()
		}
		s.App.Close()
	})
}

// lastVolume stores the collection counts since the last flush, once the
// last event is in.
func (s *Server) lastVolume() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.volume.Flush(ctx); err != nil {
		s.Log.Warn("collection volume: the last counts were not stored", "err", err)
	}
}

// lastCheckpoint signs the head once the access log has taken its last
// entry from this node, so the entries since the latest checkpoint do not
// rest on the chain alone until the next start. Its witness copy goes out
// if the outbox worker gets to it before it stops, else at the next start
// (or from another node).
func (s *Server) lastCheckpoint() {
	c := s.Checkpoints
	s.notifyMu.Lock()
	started := s.notifyEnd != nil
	s.notifyMu.Unlock()
	if !started || c.Every <= 0 && c.AfterEntries <= 0 {
		return // a start that failed, or checkpoints are off
	}
	s.Access.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := c.Take(ctx); err != nil {
		s.Log.Error("access log: no checkpoint at shutdown", "err", err)
	}
}

func (s *Server) setReady(v bool) {
	s.readyMu.Lock()
	s.ready = v
	s.readyMu.Unlock()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.readyMu.RLock()
	ready := s.ready
	s.readyMu.RUnlock()
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if !ready {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if err := s.Store.Ping(ctx); err != nil {
		s.Log.Warn("readyz: store not answering", "err", err)
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR prefix", part)
		}
		out = append(out, p)
	}
	return out, nil
}
