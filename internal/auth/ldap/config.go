// Package ldap signs people in against a corporate LDAP directory (seed 001:
// "deployed behind corporate LDAP"): it binds as the user to check the
// password, reads the user's e-mail and name, and maps the user's groups to
// steward roles. It is a second sign-in source beside steward's own users; a
// directory outage is reported as ErrUnavailable so local users still work.
package ldap

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-privacy/steward/internal/auth"
)

// Defaults for optional Config fields.
const (
	DefaultEmailAttr = "mail"
	DefaultNameAttr  = "cn"
	DefaultLoginAttr = "uid"
	DefaultTimeout   = 5 * time.Second
)

// placeholder is replaced by the escaped login (UserDNTemplate, UserFilter)
// or by the escaped user DN (GroupFilter). It is substituted literally, never
// through fmt, so a stray % in a configured filter cannot change its meaning.
const placeholder = "%s"

// Config describes one directory. Exactly one way to find the user must be
// configured: UserDNTemplate (bind directly), or UserBase and UserFilter
// (search, then bind), optionally searching as the BindDN service account.
type Config struct {
	// URL is ldap://host:port or ldaps://host:port.
	URL string
	// StartTLS upgrades an ldap:// connection before any password is sent.
	StartTLS bool
	// CAFile is an optional PEM bundle that verifies the server's
	// certificate (ldaps:// or StartTLS); the system roots are used otherwise.
	CAFile string
	// InsecureNoTLS allows ldap:// without StartTLS, which sends every
	// password in clear text. Validate refuses plain ldap:// without it.
	InsecureNoTLS bool

	// UserDNTemplate, e.g. "uid=%s,ou=people,dc=example,dc=org"; the login
	// is escaped with EscapeDN.
	UserDNTemplate string

	// BindDN and BindPassword are a service account. In search mode it
	// finds the user; in both modes, when set, it also reads the user's
	// groups after the user's own bind succeeded (users often may not).
	BindDN       string
	BindPassword string
	// UserBase and UserFilter, e.g. "(uid=%s)": search mode. The login is
	// escaped with EscapeFilter. The filter must match exactly one entry.
	UserBase   string
	UserFilter string

	// GroupBase and GroupFilter, e.g.
	// "(&(objectClass=groupOfNames)(member=%s))" with the user's DN.
	GroupBase   string
	GroupFilter string
	// GroupRoles maps a group's CN (e.g. "steward-admins") or full DN
	// (anything containing "=") to a steward role. Matching is
	// case-insensitive; DNs are compared after normalisation.
	GroupRoles map[string]auth.Role

	// EmailAttr defaults to "mail", NameAttr to "cn". LoginAttr (default
	// "uid") gives the directory's spelling of the login, so "ALICE" and
	// "alice" become the same Identity.Login.
	EmailAttr string
	NameAttr  string
	LoginAttr string

	// Timeout bounds a whole sign-in attempt (dial, binds, searches);
	// default 5s.
	Timeout time.Duration
}

// String hides BindPassword, so a logged Config does not leak it.
func (c Config) String() string {
	if c.BindPassword != "" {
		c.BindPassword = "[redacted]"
	}
	type plain Config // no String method: no recursion
	return fmt.Sprintf("%+v", plain(c))
}

// GoString hides BindPassword from %#v as well.
func (c Config) GoString() string { return "ldap.Config" + c.String() }

// Validate reports every problem in c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ldap: "+format, args...)) }

	// URL.
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		bad("url is required")
	case err != nil:
		bad("url: %v", err)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		bad("url %q: scheme must be ldap or ldaps", c.URL)
	case u.Host == "" || u.Hostname() == "":
		bad("url %q: host is required", c.URL)
	case u.User != nil:
		bad("url: must not carry credentials; use bind_dn/bind_password")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		bad("url %q: only scheme, host and port are allowed", c.URL)
	default:
		if p := u.Port(); p != "" {
			if _, err := net.LookupPort("tcp", p); err != nil {
				bad("url %q: bad port", c.URL)
			}
		}
		if u.Scheme == "ldaps" && c.StartTLS {
			bad("start_tls is for ldap:// URLs; ldaps:// is already encrypted")
		}
		if u.Scheme == "ldap" && !c.StartTLS && !c.InsecureNoTLS {
			bad("url %q without start_tls would send passwords in clear text; use ldaps://, start_tls, or set insecure_no_tls", c.URL)
		}
		if u.Scheme == "ldaps" || c.StartTLS {
			if c.InsecureNoTLS {
				bad("insecure_no_tls contradicts ldaps:// or start_tls")
			}
		}
	}
	if c.CAFile != "" && u != nil && u.Scheme == "ldap" && !c.StartTLS {
		bad("ca_file is only used with ldaps:// or start_tls")
	}

	// How the user is found: exactly one way.
	search := c.UserBase != "" || c.UserFilter != ""
	switch {
	case c.UserDNTemplate != "" && search:
		bad("set either user_dn_template or user_base/user_filter, not both")
	case c.UserDNTemplate == "" && !search:
		bad("set user_dn_template, or user_base and user_filter")
	case c.UserDNTemplate != "":
		if err := checkDNTemplate(c.UserDNTemplate); err != nil {
			bad("user_dn_template: %v", err)
		}
	default:
		if err := checkDN(c.UserBase); err != nil {
			bad("user_base: %v", err)
		}
		if err := checkFilter(c.UserFilter); err != nil {
			bad("user_filter: %v", err)
		}
	}
	if c.BindDN != "" {
		if _, err := goldap.ParseDN(c.BindDN); err != nil {
			bad("bind_dn: not a DN")
		}
		if c.BindPassword == "" {
			// An empty password is an unauthenticated bind: it would
			// silently search anonymously.
			bad("bind_password is required with bind_dn")
		}
	} else if c.BindPassword != "" {
		bad("bind_password without bind_dn")
	}

	// Groups and roles.
	if err := checkDN(c.GroupBase); err != nil {
		bad("group_base: %v", err)
	}
	if err := checkFilter(c.GroupFilter); err != nil {
		bad("group_filter: %v", err)
	}
	if len(c.GroupRoles) == 0 {
		bad("group_roles: map at least one group to a role, or nobody can sign in")
	}
	for _, g := range sortedKeys(c.GroupRoles) {
		r := c.GroupRoles[g]
		if strings.TrimSpace(g) == "" {
			bad("group_roles: empty group name")
			continue
		}
		if strings.Contains(g, "=") {
			if _, err := goldap.ParseDN(g); err != nil {
				bad("group_roles: %q is not a DN", g)
			}
		}
		if !auth.ValidRole(string(r)) {
			bad("group_roles: group %q: unknown role %q", g, r)
		}
	}

	for name, v := range map[string]string{"email_attr": c.EmailAttr, "name_attr": c.NameAttr, "login_attr": c.LoginAttr} {
		if v != "" && !validAttr(v) {
			bad("%s %q is not an attribute name", name, v)
		}
	}
	if c.Timeout < 0 {
		bad("timeout must not be negative")
	}
	return errors.Join(errs...)
}

func checkDN(dn string) error {
	if dn == "" {
		return errors.New("required")
	}
	if _, err := goldap.ParseDN(dn); err != nil {
		return errors.New("not a DN")
	}
	return nil
}

func checkDNTemplate(t string) error {
	if strings.Count(t, placeholder) != 1 {
		return errors.New("must contain %s exactly once")
	}
	dn, err := goldap.ParseDN(strings.Replace(t, placeholder, "x", 1))
	if err != nil || len(dn.RDNs) < 2 {
		return errors.New("not a DN")
	}
	return nil
}

func checkFilter(f string) error {
	if f == "" {
		return errors.New("required")
	}
	if !strings.Contains(f, placeholder) {
		return errors.New("must contain %s")
	}
	if _, err := goldap.CompileFilter(strings.ReplaceAll(f, placeholder, "x")); err != nil {
		return fmt.Errorf("not a filter: %v", err)
	}
	return nil
}

// validAttr accepts an attribute description: a name (letter, then
// letters, digits and hyphens) or a numeric OID.
func validAttr(s string) bool {
	if s == "" {
		return false
	}
	if s[0] >= '0' && s[0] <= '9' {
		for _, r := range s {
			if (r < '0' || r > '9') && r != '.' {
				return false
			}
		}
		return !strings.HasSuffix(s, ".") && !strings.Contains(s, "..")
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
