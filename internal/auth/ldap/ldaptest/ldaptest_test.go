package ldaptest_test

import (
	"net"
	"net/url"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-privacy/steward/internal/auth/ldap/ldaptest"
)

func TestStartAndStop(t *testing.T) {
	s := ldaptest.Start(t)
	c, err := goldap.DialURL(s.URL, goldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(ldaptest.ServiceDN, ldaptest.ServicePassword); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	_ = c.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != len(ldaptest.Users) {
		t.Errorf("%d people in the directory, want %d", len(res.Entries), len(ldaptest.Users))
	}

	s.Stop()
	s.Stop() // idempotent
	u, _ := url.Parse(s.URL)
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		_ = c.Close()
		t.Error("slapd still answers after Stop")
	}
}

func TestTwoServers(t *testing.T) {
	a, b := ldaptest.Start(t), ldaptest.Start(t)
	if a.URL == b.URL {
		t.Fatal("same port")
	}
}
