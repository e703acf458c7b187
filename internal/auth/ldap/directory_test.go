package ldap_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/auth/ldap"
	"github.com/steward-privacy/steward/internal/auth/ldap/ldaptest"
)

func newDirectory(t *testing.T, c ldap.Config) *ldap.Directory {
	t.Helper()
	d, err := ldap.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// noLeak fails the test when err's text contains a secret, or who tried
// (the caller logs these errors).
func noLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if len(strings.TrimSpace(s)) >= 4 && strings.Contains(err.Error(), s) {
			t.Errorf("error reveals %q: %v", s, err)
		}
	}
}

// The three ways of reaching the fixture.
func configs(s *ldaptest.Server) map[string]ldap.Config {
	plain := s.Config()
	plain.StartTLS, plain.CAFile, plain.InsecureNoTLS = false, "", true
	// Template mode can read groups as a service account too.
	tmplSvc := s.Config()
	tmplSvc.BindDN, tmplSvc.BindPassword = ldaptest.ServiceDN, ldaptest.ServicePassword
	return map[string]ldap.Config{
		"template+starttls":        s.Config(),
		"template+service account": tmplSvc,
		"template+plain":           plain,
		"search+ldaps":             s.SearchConfig(),
	}
}

func TestAuthenticate(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := context.Background()
	for name, c := range configs(s) {
		t.Run(name, func(t *testing.T) {
			d := newDirectory(t, c)

			t.Run("right password", func(t *testing.T) {
				for _, u := range ldaptest.Users {
					if len(u.Roles) == 0 {
						continue
					}
					id, err := d.Authenticate(ctx, u.Login, u.Password)
					if err != nil {
						t.Fatalf("%s: %v", u.Login, err)
					}
					want := ldap.Identity{DN: u.DN(), Login: u.Login, Email: u.Email, Name: u.Name, Roles: u.Roles}
					if !equalIdentity(id, want) {
						t.Errorf("%s:\n got %+v\nwant %+v", u.Login, id, want)
					}
				}
			})

			t.Run("login is case-insensitive and canonicalised", func(t *testing.T) {
				id, err := d.Authenticate(ctx, "ALICE", ldaptest.Lookup("alice").Password)
				if err != nil {
					t.Fatal(err)
				}
				if id.Login != "alice" || id.Email != "alice@example.org" {
					t.Errorf("got %+v", id)
				}
			})

			t.Run("no mapped group", func(t *testing.T) {
				carol := ldaptest.Lookup("carol")
				id, err := d.Authenticate(ctx, carol.Login, carol.Password)
				if !errors.Is(err, ldap.ErrNoRole) {
					t.Fatalf("want ErrNoRole, got %v", err)
				}
				if id.Login != "carol" || id.Email != carol.Email || len(id.Roles) != 0 {
					t.Errorf("identity for logging: %+v", id)
				}
			})

			t.Run("wrong password", func(t *testing.T) {
				for _, u := range ldaptest.Users {
					for _, pw := range []string{u.Password + "x", strings.ToUpper(u.Password), " ", ldaptest.Lookup("dave").Password} {
						if pw == u.Password {
							continue
						}
						_, err := d.Authenticate(ctx, u.Login, pw)
						if !errors.Is(err, ldap.ErrInvalidCredentials) {
							t.Errorf("%s/%q: want ErrInvalidCredentials, got %v", u.Login, pw, err)
						}
						noLeak(t, err, pw)
					}
				}
			})

			t.Run("empty password", func(t *testing.T) {
				for _, login := range []string{"alice", "dave", "nobody", ""} {
					if _, err := d.Authenticate(ctx, login, ""); !errors.Is(err, ldap.ErrInvalidCredentials) {
						t.Errorf("%q: want ErrInvalidCredentials, got %v", login, err)
					}
				}
			})

			t.Run("unknown user", func(t *testing.T) {
				for _, login := range []string{"mallory", "alice2", "admin", "steward"} {
					_, err := d.Authenticate(ctx, login, "alice-Pass-1")
					if !errors.Is(err, ldap.ErrInvalidCredentials) {
						t.Errorf("%q: want ErrInvalidCredentials, got %v", login, err)
					}
				}
			})

			t.Run("special characters are escaped, not interpreted", func(t *testing.T) {
				frank := ldaptest.Lookup("frank,ops")
				id, err := d.Authenticate(ctx, frank.Login, frank.Password)
				if err != nil || id.Login != "frank,ops" {
					t.Fatalf("frank,ops: %+v %v", id, err)
				}
				// Each of these, unescaped, would select dave's entry (or
				// every entry) in a DN or a filter; with dave's password
				// they must all fail.
				dave := ldaptest.Lookup("dave")
				for _, login := range []string{
					"*", "dav*", "*)(uid=*", "dave)(uid=*", "*)(|(uid=*", "dave)(|(uid=*)",
					"(uid=dave)", "dave\x00", "dave\\", `dave\2a`,
					"admin,ou=x", "dave,ou=people,dc=example,dc=org", "uid=dave,ou=people,dc=example,dc=org",
					"dave+cn=x", "#dave", `dave"`, "dave;x", "dave<>",
					"frank", "ops", "frank\\,ops",
				} {
					_, err := d.Authenticate(ctx, login, dave.Password)
					if !errors.Is(err, ldap.ErrInvalidCredentials) {
						t.Errorf("login %q: want ErrInvalidCredentials, got %v", login, err)
					}
				}
				// And the admin (rootdn) cannot sign in through the template.
				if _, err := d.Authenticate(ctx, "admin", ldaptest.AdminPassword); !errors.Is(err, ldap.ErrInvalidCredentials) {
					t.Errorf("rootdn: %v", err)
				}
			})

			t.Run("oversized or malformed input", func(t *testing.T) {
				for _, in := range [][2]string{
					{strings.Repeat("a", 300), "x"},
					{"alice", strings.Repeat("x", 2000)},
					{"al\xffice", "x"},
				} {
					if _, err := d.Authenticate(ctx, in[0], in[1]); !errors.Is(err, ldap.ErrInvalidCredentials) {
						t.Errorf("want ErrInvalidCredentials, got %v", err)
					}
				}
			})

			t.Run("concurrent", func(t *testing.T) {
				var wg sync.WaitGroup
				for i := range 24 {
					u := ldaptest.Users[i%len(ldaptest.Users)]
					wg.Go(func() {
						_, err := d.Authenticate(ctx, u.Login, u.Password)
						if len(u.Roles) == 0 && !errors.Is(err, ldap.ErrNoRole) || len(u.Roles) > 0 && err != nil {
							t.Errorf("%s: %v", u.Login, err)
						}
					})
				}
				wg.Wait()
			})
		})
	}
}

func TestGroupRolesByDN(t *testing.T) {
	s := ldaptest.Start(t)
	c := s.Config()
	c.GroupRoles = map[string]auth.Role{
		"CN=Steward-Admins, OU=Groups, DC=Example, DC=Org": auth.Admin, // any case and spacing
		"steward-ADMINS":   auth.IncidentManager, // CN, any case
		"steward-auditors": auth.Auditor,
		"engineering":      auth.Analyst,
	}
	d := newDirectory(t, c)
	dave := ldaptest.Lookup("dave")
	id, err := d.Authenticate(context.Background(), dave.Login, dave.Password)
	if err != nil {
		t.Fatal(err)
	}
	if want := []auth.Role{auth.Admin, auth.Analyst, auth.IncidentManager}; !slices.Equal(id.Roles, want) {
		t.Errorf("roles %v, want %v", id.Roles, want)
	}
}

func TestDirectoryMisconfigured(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := context.Background()
	alice := ldaptest.Lookup("alice")

	t.Run("service account password wrong", func(t *testing.T) {
		for _, c := range []ldap.Config{s.SearchConfig(), configs(s)["template+service account"]} {
			c.BindPassword = "Wr0ng-Service-Secret"
			_, err := newDirectory(t, c).Authenticate(ctx, alice.Login, alice.Password)
			if !errors.Is(err, ldap.ErrUnavailable) {
				t.Errorf("want ErrUnavailable, got %v", err)
			}
			noLeak(t, err, c.BindPassword, alice.Password, alice.DN(), alice.Email)
		}
	})

	t.Run("anonymous search may not see the people", func(t *testing.T) {
		c := s.SearchConfig()
		c.BindDN, c.BindPassword = "", ""
		_, err := newDirectory(t, c).Authenticate(ctx, alice.Login, alice.Password)
		if !errors.Is(err, ldap.ErrUnavailable) {
			t.Errorf("want ErrUnavailable, got %v", err)
		}
	})

	t.Run("wrong user base", func(t *testing.T) {
		c := s.SearchConfig()
		c.UserBase = "ou=staff," + ldaptest.BaseDN
		_, err := newDirectory(t, c).Authenticate(ctx, alice.Login, alice.Password)
		if !errors.Is(err, ldap.ErrUnavailable) {
			t.Errorf("want ErrUnavailable, got %v", err)
		}
		noLeak(t, err, alice.Password, alice.DN(), alice.Email, "uid="+alice.Login)
	})

	t.Run("filter matching several users", func(t *testing.T) {
		c := s.SearchConfig()
		c.UserFilter = "(|(uid=%s)(objectClass=inetOrgPerson))"
		_, err := newDirectory(t, c).Authenticate(ctx, alice.Login, alice.Password)
		if !errors.Is(err, ldap.ErrInvalidCredentials) || !strings.Contains(err.Error(), "several") {
			t.Errorf("want ambiguous ErrInvalidCredentials, got %v", err)
		}
	})

	t.Run("unknown CA", func(t *testing.T) {
		for _, c := range []ldap.Config{s.Config(), s.SearchConfig()} {
			c.CAFile = ""
			_, err := newDirectory(t, c).Authenticate(ctx, alice.Login, alice.Password)
			if !errors.Is(err, ldap.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("want certificate ErrUnavailable, got %v", err)
			}
			noLeak(t, err, alice.Password, alice.DN(), alice.Email)
		}
	})

	t.Run("wrong host name", func(t *testing.T) {
		c := s.SearchConfig()
		c.URL = strings.Replace(c.URL, "127.0.0.1", "127.0.0.2", 1) // certificate is for 127.0.0.1
		_, err := newDirectory(t, c).Authenticate(ctx, alice.Login, alice.Password)
		if !errors.Is(err, ldap.ErrUnavailable) {
			t.Errorf("want ErrUnavailable, got %v", err)
		}
	})
}

func TestDirectoryDown(t *testing.T) {
	s := ldaptest.Start(t)
	alice := ldaptest.Lookup("alice")
	cs := configs(s)
	for name := range cs {
		if _, err := newDirectory(t, cs[name]).Authenticate(context.Background(), alice.Login, alice.Password); err != nil {
			t.Fatalf("%s before stop: %v", name, err)
		}
	}
	s.Stop()
	for name, c := range cs {
		c.Timeout = 5 * time.Second
		start := time.Now()
		_, err := newDirectory(t, c).Authenticate(context.Background(), alice.Login, alice.Password)
		took := time.Since(start)
		if !errors.Is(err, ldap.ErrUnavailable) {
			t.Errorf("%s: want ErrUnavailable, got %v", name, err)
		}
		if took > time.Second {
			t.Errorf("%s: took %v to notice a refused connection", name, took)
		}
		noLeak(t, err, alice.Password, alice.DN(), alice.Email)
		// The empty password is refused before any connection is tried.
		if _, err := newDirectory(t, c).Authenticate(context.Background(), alice.Login, ""); !errors.Is(err, ldap.ErrInvalidCredentials) {
			t.Errorf("%s: empty password: want ErrInvalidCredentials, got %v", name, err)
		}
	}
}

// silentServer accepts connections and never answers; it counts them.
func silentServer(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String(), accepted
}

func silentConfig(addr string, timeout time.Duration) ldap.Config {
	c := validConfig()
	c.URL, c.InsecureNoTLS, c.Timeout = "ldap://"+addr, true, timeout
	return c
}

func TestEmptyPasswordNeverContactsServer(t *testing.T) {
	addr, accepted := silentServer(t)
	for _, c := range []ldap.Config{silentConfig(addr, time.Second), func() ldap.Config {
		c := silentConfig(addr, time.Second)
		c.UserDNTemplate, c.UserBase, c.UserFilter = "", "dc=example,dc=org", "(uid=%s)"
		c.BindDN, c.BindPassword = "cn=svc,dc=example,dc=org", "svc"
		return c
	}()} {
		d := newDirectory(t, c)
		for _, login := range []string{"alice", "", "*"} {
			if _, err := d.Authenticate(context.Background(), login, ""); !errors.Is(err, ldap.ErrInvalidCredentials) {
				t.Errorf("%q: want ErrInvalidCredentials, got %v", login, err)
			}
		}
	}
	time.Sleep(20 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("server was contacted %d times", n)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	addr, _ := silentServer(t)
	for _, starttls := range []bool{false, true} {
		t.Run(fmt.Sprint("starttls=", starttls), func(t *testing.T) {
			c := silentConfig(addr, 300*time.Millisecond)
			if starttls {
				c.InsecureNoTLS, c.StartTLS = false, true
			}
			start := time.Now()
			_, err := newDirectory(t, c).Authenticate(context.Background(), "alice", "pw-Secret")
			took := time.Since(start)
			if !errors.Is(err, ldap.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("want ErrUnavailable and DeadlineExceeded, got %v", err)
			}
			if took < 250*time.Millisecond || took > 2*time.Second {
				t.Errorf("took %v with a 300ms timeout", took)
			}
			noLeak(t, err, "pw-Secret")
		})
	}
}

func TestCallerCancels(t *testing.T) {
	addr, _ := silentServer(t)
	d := newDirectory(t, silentConfig(addr, 10*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := d.Authenticate(ctx, "alice", "pw")
	if !errors.Is(err, ldap.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("want ErrUnavailable and Canceled, got %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel took %v", took)
	}
	if _, err := d.Authenticate(ctx, "alice", "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: %v", err)
	}
}

func equalIdentity(a, b ldap.Identity) bool {
	adn, err1 := goldap.ParseDN(a.DN)
	bdn, err2 := goldap.ParseDN(b.DN)
	return err1 == nil && err2 == nil && adn.EqualFold(bdn) && a.Login == b.Login && a.Email == b.Email &&
		a.Name == b.Name && slices.Equal(a.Roles, b.Roles)
}
