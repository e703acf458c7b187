package server

import (
	"context"
	"fmt"
	"time"

	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/pgaudit"
)

// pgauditSource reads the product database's pgaudit log on the ticker
// when the config file has a pgaudit: section: its accesses join the
// access log, and the monitor checks them like steward's own.
func (s *Server) pgauditSource(cfg *config.Config) error {
	p := cfg.PGAudit
	if p == nil {
		return nil
	}
	m := pgaudit.Mapping{Tables: p.Tables, Roles: map[string]pgaudit.Grant{}}
	for r, g := range p.Roles {
		m.Roles[r] = pgaudit.Grant{Role: g.Role, Purpose: g.Purpose}
	}
	reg := s.Registry.Current()
	if err := m.Validate(func(d string) bool { return reg != nil && reg.Dataset(d) != nil }); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	t := &pgaudit.Tailer{Store: s.Store, Dir: p.LogDir, Pattern: p.Pattern, Mapping: m, Holder: s.Monitor.Holder, Batch: p.Batch,
		Budget: 20 * time.Second, Now: s.Clock.Now, Log: s.Log, Metrics: pgaudit.NewMetrics(s.metrics)}
	s.Ticker.Add("pgaudit log", func(ctx context.Context) error { return t.CatchUp(ctx) })
	s.Log.Info("reading the product database's pgaudit log", "dir", p.LogDir, "tables", len(p.Tables), "roles", len(p.Roles))
	return nil
}
