package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPGAuditSection(t *testing.T) {
	dir := t.TempDir()
	load := func(body string) (*Config, error) {
		file := filepath.Join(dir, "c.yaml")
		_ = os.WriteFile(file, []byte(body), 0o600)
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c := FlagSet(fs)
		if err := fs.Parse([]string{"--config", file}); err != nil {
			t.Fatal(err)
		}
		return c, Load(fs, func(string) string { return "" })
	}
	c, err := load(`pgaudit:
  log_dir: /var/log/postgresql/product
  tables:
    public.events: interaction_data
  roles:
    app_reader: {role: analyst, purpose: product_improvement}
`)
	if err != nil {
		t.Fatal(err)
	}
	p := c.PGAudit
	if p == nil || p.LogDir != "/var/log/postgresql/product" || p.Pattern != "*.csv" || p.Tables["public.events"] != "interaction_data" ||
		p.Roles["app_reader"] != (PGAuditRole{Role: "analyst", Purpose: "product_improvement"}) {
		t.Fatalf("pgaudit section: %+v", p)
	}
	if c, err := load("pgaudit:\n"); err != nil || c.PGAudit != nil {
		t.Fatalf("an empty section: %+v %v", c.PGAudit, err)
	}
	const ok = "  log_dir: /l\n  tables: {public.t: d}\n"
	for body, want := range map[string]string{
		"pgaudit: [1]\n":                               "pgaudit: expected a mapping",
		"pgaudit:\n  tables: {public.t: d}\n":          "pgaudit.log_dir: give",
		"pgaudit:\n  log_dir: rel\n":                   "pgaudit.log_dir: \"rel\" is not an absolute path",
		"pgaudit:\n  log_dir: /l\n":                    "pgaudit.tables: name at least one",
		"pgaudit:\n" + ok + "  logdir: /x\n":           "logdir",
		"pgaudit:\n" + ok + "  pattern: '[x'\n":        "pgaudit.pattern",
		"pgaudit:\n" + ok + "  batch: -1\n":            "pgaudit.batch",
		"pgaudit:\n" + ok + "  roles: {a: {rol: x}}\n": "rol",
	} {
		_, err := load(body)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line naming %q", body, err, want)
		}
	}
}
