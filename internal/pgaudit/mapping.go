package pgaudit

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// AuthMethod is what entries from the pgaudit log carry as AuthMethod;
// their Actor is "db:" and the database role.
const AuthMethod = "pgaudit"

// Grant is what a database role stands for in steward: the steward role
// its logins act in and the purpose its reads serve.
type Grant struct {
	Role    string
	Purpose string
}

// Mapping says which tables hold personal data (of which registry
// dataset) and what each database role is in steward's terms.
type Mapping struct {
	// Tables maps a relation as pgaudit names it (schema.table) to a
	// registry dataset. A table not here holds no personal data: its
	// accesses are counted, not logged.
	Tables map[string]string
	// Roles maps a database role to its steward role and purpose. A role
	// not here still gets its accesses logged, with no steward role, and
	// the monitor reports each as outside policy.
	Roles map[string]Grant
}

// Validate checks the mapping against the datasets the registry knows;
// each problem names its key the way the config file spells it, one per
// line.
func (m Mapping) Validate(hasDataset func(string) bool) error {
	var errs []string
	for _, t := range sortedKeys(m.Tables) {
		d := m.Tables[t]
		key := "pgaudit.tables." + t
		switch {
		case !strings.Contains(strings.Trim(t, "."), "."):
			errs = append(errs, key+": name the table as pgaudit logs it, schema.table (e.g. public.accounts)")
		case d == "":
			errs = append(errs, key+": give the registry dataset the table holds")
		case hasDataset != nil && !hasDataset(d):
			errs = append(errs, fmt.Sprintf("%s: %q is not a dataset of the registry in force", key, d))
		}
	}
	for _, r := range sortedKeys(m.Roles) {
		g := m.Roles[r]
		key := "pgaudit.roles." + r
		switch {
		case !auth.ValidRole(g.Role) || g.Role == string(auth.System) || g.Role == string(auth.App):
			errs = append(errs, fmt.Sprintf("%s.role: %q is not a steward role a person can hold (leave a role out to have its every access reported)", key, g.Role))
		case g.Purpose == "":
			errs = append(errs, key+".purpose: give the purpose the role's accesses serve (the read policy checks it)")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Outcome is what became of one pgaudit line.
type Outcome int

const (
	// Logged: a read or write of a mapped table, now an entry.
	Logged Outcome = iota
	// Unmapped: a read or write of a table the mapping does not name.
	Unmapped
	// Other: a class steward does not log (DDL, ROLE, MISC …) or a
	// statement on no table.
	Other
)

// Entry turns a into an access-log entry when it reads or writes a
// mapped table. PostgreSQL let the access happen, so the decision is
// Allowed; whether it should have is the monitor's question. pgaudit does
// not say how many rows or whose they were, so Records and Subjects are 0
// (unknown): the blast radius of a database role is the whole table. The
// statement text stays out of the entry, since it can carry personal data
// (WHERE email = '…'); Query is the class, command and table.
func (m Mapping) Entry(a Audit) (*store.AccessEntry, Outcome) {
	if a.Class != "READ" && a.Class != "WRITE" || a.ObjectName == "" {
		return nil, Other
	}
	ds, ok := m.Tables[a.ObjectName]
	if !ok {
		return nil, Unmapped
	}
	g := m.Roles[a.User] // zero: mapped to no steward role
	return &store.AccessEntry{
		At: a.At.UTC(), Actor: "db:" + a.User, AuthMethod: AuthMethod, CredentialID: a.User,
		Role: g.Role, Purpose: g.Purpose, Dataset: ds,
		Query:     strings.TrimSpace(a.Class + " " + a.Command + " " + a.ObjectName),
		ClientNet: clientNet(a.ConnFrom),
		Decision:  accesslog.Allowed,
		Reason:    fmt.Sprintf("pgaudit: database %s, session %s, statement %d.%d", a.Database, a.Session, a.StatementID, a.SubID),
	}, Logged
}

// clientNet minimises csvlog's connection_from ("10.1.2.3:5432",
// "::1:5432", "[local]") as steward minimises every client address: the
// /24 or /48 network, never the address. A host name (log_hostname = on)
// is dropped.
func clientNet(from string) string {
	if from == "" {
		return ""
	}
	if from == "[local]" {
		return "local" // a Unix socket: someone on the database host
	}
	host := from
	if i := strings.LastIndexByte(from, ':'); i > 0 {
		host = from[:i]
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return ""
	}
	return minimise.TruncateIP(ip, 24, 48).String()
}
