package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// PGAudit is where the product database's pgaudit log is and what its
// tables and roles are in steward's terms (internal/pgaudit, the
// "PostgreSQL audit source" of docs/breach.md). Only the config file's
// pgaudit: section sets it; nil when there is none.
type PGAudit struct {
	// LogDir is PostgreSQL's log_directory, where the logging collector
	// writes csvlog files; Pattern picks them (default "*.csv").
	LogDir  string `yaml:"log_dir"`
	Pattern string `yaml:"pattern"`
	// Tables maps schema.table, as pgaudit logs it, to a registry dataset.
	Tables map[string]string `yaml:"tables"`
	// Roles maps a database role to the steward role and purpose its
	// accesses stand for; a role left out is reported on every access.
	Roles map[string]PGAuditRole `yaml:"roles"`
	// Batch bounds the log records read per transaction (default 1000).
	Batch int `yaml:"batch"`
}

// PGAuditRole is one database role's place in steward.
type PGAuditRole struct {
	Role    string `yaml:"role"`
	Purpose string `yaml:"purpose"`
}

// pgauditSection reads and checks the pgaudit: section. What needs the
// registry or the role list (a dataset's existence, a role's name) is
// checked where those are known, by pgaudit.Mapping.Validate at start.
func pgauditSection(path string, v *yaml.Node) (*PGAudit, error) {
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: pgaudit: expected a mapping (log_dir:, tables:, roles:)", path)
	}
	var p PGAudit
	if err := decodeStrict(v, &p); err != nil {
		return nil, fmt.Errorf("%s: pgaudit: %s", path, oneLine(err))
	}
	switch {
	case p.LogDir == "":
		return nil, fmt.Errorf("%s: pgaudit.log_dir: give PostgreSQL's log_directory (log_destination = 'csvlog')", path)
	case !filepath.IsAbs(p.LogDir):
		return nil, fmt.Errorf("%s: pgaudit.log_dir: %q is not an absolute path", path, p.LogDir)
	case len(p.Tables) == 0:
		return nil, fmt.Errorf("%s: pgaudit.tables: name at least one table that holds personal data (schema.table: dataset)", path)
	case p.Batch < 0:
		return nil, fmt.Errorf("%s: pgaudit.batch: must not be negative", path)
	}
	if p.Pattern == "" {
		p.Pattern = "*.csv"
	}
	if _, err := filepath.Match(p.Pattern, ""); errors.Is(err, filepath.ErrBadPattern) {
		return nil, fmt.Errorf("%s: pgaudit.pattern: %q is not a file name pattern", path, p.Pattern)
	}
	return &p, nil
}

// yamlLine and unknownField reword yaml.v3's errors: their line numbers
// count within the section (decodeStrict decodes it again on its own), and
// "field x not found in type config.PGAudit" names Go, not the file.
var (
	yamlLine     = regexp.MustCompile(`^line \d+: `)
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
)

// oneLine is err as one line of the config error.
func oneLine(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
	out := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		out[i] = unknownField.ReplaceAllString(yamlLine.ReplaceAllString(e, ""), "unknown key $1")
	}
	return strings.Join(out, "; ")
}
