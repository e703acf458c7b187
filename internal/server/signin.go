package server

import (
	"context"
	"net/http"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/auth/ldap"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/signin"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// buildSignin assembles browser sign-in: sessions, steward's own accounts
// and, when configured, the corporate directory.
func (s *Server) buildSignin(cfg *config.Config, opt Options, ips clientip.Resolver) error {
	s.sessions = auth.Sessions{Store: s.Store, Clock: s.Clock, TTL: cfg.SessionTTL, Secure: cfg.SecureCookies, Log: s.Log,
		Refuse: ui.Refuse}
	cost := opt.Argon2
	if cost == (auth.Argon2Params{}) {
		cost = auth.DefaultArgon2
	}
	s.signin = &signin.Service{Accounts: s.Store, Sessions: s.sessions, IPs: ips, Log: s.Log, Argon2: cost, Keyer: s.Keyer}
	if cfg.LDAP != nil {
		dir, err := ldap.New(ldapConfig(cfg.LDAP))
		if err != nil {
			return err
		}
		s.signin.Directory = dir
		s.Log.Info("staff may sign in with the corporate directory", "url", cfg.LDAP.URL)
	}
	return s.signin.Init()
}

func ldapConfig(c *config.LDAP) ldap.Config {
	roles := make(map[string]auth.Role, len(c.GroupRoles))
	for g, r := range c.GroupRoles {
		roles[g] = auth.Role(r)
	}
	return ldap.Config{
		URL: c.URL, StartTLS: c.StartTLS, CAFile: c.CAFile, InsecureNoTLS: c.InsecureNoTLS,
		UserDNTemplate: c.UserDNTemplate, BindDN: c.BindDN, BindPassword: c.BindPassword,
		UserBase: c.UserBase, UserFilter: c.UserFilter, GroupBase: c.GroupBase, GroupFilter: c.GroupFilter,
		GroupRoles: roles, EmailAttr: c.EmailAttr, NameAttr: c.NameAttr, LoginAttr: c.LoginAttr,
		Timeout: c.Timeout,
	}
}

func (s *Server) signinRoutes() {
	si := s.signin
	s.publicPage("GET /login", "", hf(si.Form))
	s.publicPage("POST /login", "", hf(si.Login))
	s.page("POST /logout", []auth.Role{}, hf(si.Logout))
	s.page("GET /account", []auth.Role{}, hf(si.Account))
	s.handle("GET /{$}", nil, http.RedirectHandler("/account", http.StatusSeeOther))
}

// sweepSessions forgets expired sessions and sign-in failures older than
// the throttling window; Tick-driven so a test's clock moves it.
func (s *Server) sweepSessions(ctx context.Context) {
	now := s.Clock.Now()
	if _, err := s.Store.DeleteExpiredSessions(ctx, now); err != nil && ctx.Err() == nil {
		s.Log.Warn("sessions: sweep failed", "err", err)
	}
	if _, err := s.Store.DeleteLoginFailuresBefore(ctx, now.Add(-signin.Window)); err != nil && ctx.Err() == nil {
		s.Log.Warn("sessions: pruning sign-in failures failed", "err", err)
	}
}
