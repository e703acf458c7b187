package ldap_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/auth/ldap"
)

func validConfig() ldap.Config {
	return ldap.Config{
		URL:            "ldaps://ldap.example.org",
		UserDNTemplate: "uid=%s,ou=people,dc=example,dc=org",
		GroupBase:      "ou=groups,dc=example,dc=org",
		GroupFilter:    "(&(objectClass=groupOfNames)(member=%s))",
		GroupRoles:     map[string]auth.Role{"steward-admins": auth.Admin, "cn=aud,ou=groups,dc=example,dc=org": auth.Auditor},
	}
}

func TestValidate(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	search := func(c *ldap.Config) {
		c.UserDNTemplate = ""
		c.UserBase = "ou=people,dc=example,dc=org"
		c.UserFilter = "(uid=%s)"
	}
	for _, tc := range []struct {
		name   string
		change func(*ldap.Config)
		want   string // substring of the error; "" means valid
	}{
		{"search mode", search, ""},
		{"search mode with service account", func(c *ldap.Config) {
			search(c)
			c.BindDN, c.BindPassword = "cn=svc,dc=example,dc=org", "pw"
		}, ""},
		{"starttls", func(c *ldap.Config) { c.URL, c.StartTLS = "ldap://127.0.0.1:3890", true }, ""},
		{"plain ldap allowed explicitly", func(c *ldap.Config) { c.URL, c.InsecureNoTLS = "ldap://127.0.0.1:3890", true }, ""},
		{"oid attribute", func(c *ldap.Config) { c.EmailAttr = "0.9.2342.19200300.100.1.3" }, ""},

		{"no url", func(c *ldap.Config) { c.URL = "" }, "url is required"},
		{"http url", func(c *ldap.Config) { c.URL = "http://ldap.example.org" }, "scheme must be ldap or ldaps"},
		{"no host", func(c *ldap.Config) { c.URL = "ldaps://" }, "host is required"},
		{"credentials in url", func(c *ldap.Config) { c.URL = "ldaps://u:p@ldap.example.org" }, "must not carry credentials"},
		{"dn in url", func(c *ldap.Config) { c.URL = "ldaps://ldap.example.org/dc=example,dc=org" }, "only scheme, host and port"},
		{"bad port", func(c *ldap.Config) { c.URL = "ldaps://ldap.example.org:99999" }, "bad port"},
		{"plain ldap", func(c *ldap.Config) { c.URL = "ldap://ldap.example.org" }, "clear text"},
		{"ldaps and starttls", func(c *ldap.Config) { c.StartTLS = true }, "already encrypted"},
		{"ldaps and insecure", func(c *ldap.Config) { c.InsecureNoTLS = true }, "contradicts"},
		{"ca file without tls", func(c *ldap.Config) {
			c.URL, c.InsecureNoTLS, c.CAFile = "ldap://h", true, "/ca.pem"
		}, "ca_file is only used"},
		{"template and search", func(c *ldap.Config) { c.UserBase = "ou=people,dc=example,dc=org" }, "not both"},
		{"neither template nor search", func(c *ldap.Config) { c.UserDNTemplate = "" }, "set user_dn_template"},
		{"template without %s", func(c *ldap.Config) { c.UserDNTemplate = "uid=x,dc=example,dc=org" }, "exactly once"},
		{"template twice %s", func(c *ldap.Config) { c.UserDNTemplate = "uid=%s,ou=%s,dc=org" }, "exactly once"},
		{"template not a dn", func(c *ldap.Config) { c.UserDNTemplate = "%s@example.org" }, "not a DN"},
		{"search without filter", func(c *ldap.Config) { search(c); c.UserFilter = "" }, "user_filter: required"},
		{"search without base", func(c *ldap.Config) { search(c); c.UserBase = "" }, "user_base: required"},
		{"filter without %s", func(c *ldap.Config) { search(c); c.UserFilter = "(uid=alice)" }, "must contain %s"},
		{"filter syntax", func(c *ldap.Config) { search(c); c.UserFilter = "(uid=%s" }, "not a filter"},
		{"bind dn without password", func(c *ldap.Config) { c.BindDN = "cn=svc,dc=example,dc=org" }, "bind_password is required"},
		{"password without bind dn", func(c *ldap.Config) { c.BindPassword = "x" }, "without bind_dn"},
		{"bad bind dn", func(c *ldap.Config) { c.BindDN, c.BindPassword = "not a dn", "x" }, "bind_dn: not a DN"},
		{"no group base", func(c *ldap.Config) { c.GroupBase = "" }, "group_base: required"},
		{"group filter without %s", func(c *ldap.Config) { c.GroupFilter = "(objectClass=groupOfNames)" }, "group_filter: must contain %s"},
		{"no roles", func(c *ldap.Config) { c.GroupRoles = nil }, "map at least one group"},
		{"unknown role", func(c *ldap.Config) { c.GroupRoles["x"] = "superuser" }, `unknown role "superuser"`},
		{"empty role", func(c *ldap.Config) { c.GroupRoles["x"] = "" }, `unknown role ""`},
		{"empty group", func(c *ldap.Config) { c.GroupRoles[" "] = auth.Admin }, "empty group name"},
		{"bad group dn", func(c *ldap.Config) { c.GroupRoles["cn=x,,"] = auth.Admin }, "is not a DN"},
		{"bad attribute", func(c *ldap.Config) { c.EmailAttr = "mail)(x" }, "email_attr"},
		{"negative timeout", func(c *ldap.Config) { c.Timeout = -time.Second }, "timeout must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("want error containing %q, got valid", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
			if _, nerr := ldap.New(c); (nerr == nil) != (err == nil) {
				t.Fatalf("New and Validate disagree: %v vs %v", nerr, err)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	err := ldap.Config{URL: "ftp://x", GroupRoles: map[string]auth.Role{"g": "root"}}.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"scheme", "user_dn_template", "group_base", "group_filter", "unknown role"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestNewCAFile(t *testing.T) {
	c := validConfig()
	c.CAFile = t.TempDir() + "/missing.pem"
	if _, err := ldap.New(c); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("missing CA file: %v", err)
	}
}

func TestConfigPrintingHidesBindPassword(t *testing.T) {
	c := validConfig()
	c.BindDN, c.BindPassword = "cn=svc,dc=example,dc=org", "Sup3r-Secret"
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		if out := fmt.Sprintf(verb, c); strings.Contains(out, "Sup3r-Secret") {
			t.Errorf("%s leaks the bind password: %s", verb, out)
		}
	}
	d, err := ldap.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Config(); got.EmailAttr != "mail" || got.NameAttr != "cn" || got.LoginAttr != "uid" || got.Timeout != 5*time.Second {
		t.Errorf("defaults not filled in: %v", got)
	}
}
