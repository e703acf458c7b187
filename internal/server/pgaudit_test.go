package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/store"
)

// A pgaudit read by a role mapped to nothing, as PostgreSQL 15 logs it.
const bobReads = `2026-11-22 12:00:00.000 UTC,"bob","product",4242,"198.51.100.7:50000",6b1.2,1,"SELECT",2026-11-22 12:00:00 UTC,3/4,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.events,select * from events,<not logged>",,,,,,,,,"psql","client backend",,0` + "\n"

// TestPGAuditSourceOnTheTicker: with a pgaudit: section the server's
// ticker reads the log into the access log, and the monitor reports the
// unmapped role.
func TestPGAuditSourceOnTheTicker(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "postgresql-2026-11-22_120000.csv"), []byte(bobReads), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "")
	cfg.PGAudit = &config.PGAudit{LogDir: dir, Pattern: "*.csv", Tables: map[string]string{"public.events": "interaction_data"},
		Roles: map[string]config.PGAuditRole{"app_reader": {Role: "analyst", Purpose: "product_improvement"}}}
	n := startNode(t, cfg)
	ctx := context.Background()
	if err := n.srv.Ticker.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	es, _ := n.srv.Store.ListAccess(ctx, store.AccessQuery{Actor: "db:bob", Limit: 10})
	if len(es) != 1 || es[0].AuthMethod != "pgaudit" || es[0].ClientNet != "198.51.100.0" {
		t.Fatalf("entries: %+v", es)
	}
	if m := scrape(t, n); m[`steward_pgaudit_records{outcome="logged"}`] != 1 || m[`steward_pgaudit_records{outcome="malformed"}`] != 0 {
		t.Errorf("metrics: %v", m)
	}
	if _, err := n.srv.Monitor.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := n.srv.Store.ListIncidents(ctx, store.IncidentQuery{})
	if len(list) != 1 || list[0].Credential != "pgaudit:bob" {
		t.Fatalf("incidents: %+v", list)
	}
}

func TestPGAuditSourceRefusesAMappingTheRegistryDoesNotKnow(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.PGAudit = &config.PGAudit{LogDir: t.TempDir(), Tables: map[string]string{"public.events": "nope"},
		Roles: map[string]config.PGAuditRole{"ops": {Role: "superuser", Purpose: "x"}}}
	_, err := New(context.Background(), cfg, Options{Argon2: testArgon2})
	if err == nil || !strings.Contains(err.Error(), `pgaudit.tables.public.events: "nope" is not a dataset`) ||
		!strings.Contains(err.Error(), `pgaudit.roles.ops.role: "superuser"`) {
		t.Fatalf("err: %v", err)
	}
}
