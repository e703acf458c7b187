package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-privacy/steward/internal/auth"
)

// Errors returned by Authenticate. Test with errors.Is; the wrapped detail
// is for logs and never contains a password.
var (
	// ErrInvalidCredentials: unknown login, wrong or empty password. The
	// caller must not tell these apart for the user.
	ErrInvalidCredentials = errors.New("ldap: invalid login or password")
	// ErrNoRole: the password was right, but none of the user's groups is
	// mapped to a steward role.
	ErrNoRole = errors.New("ldap: user is in no group mapped to a steward role")
	// ErrUnavailable: the directory could not be asked (down, timed out,
	// TLS failure, misconfigured service account). Show "directory
	// unavailable"; local users still work.
	ErrUnavailable = errors.New("ldap: directory unavailable")
)

// Limits on what Authenticate sends to the directory at all.
const (
	maxLoginLen    = 256
	maxPasswordLen = 1024
)

// Identity is a signed-in directory user.
type Identity struct {
	DN    string // the user's entry, as the directory spells it
	Login string // LoginAttr's value, else the login as typed
	Email string
	Name  string
	Roles []auth.Role // in auth.Roles order, no duplicates
}

// Directory authenticates against one LDAP server. It holds no connection
// (each attempt dials its own), so it is safe for concurrent use.
type Directory struct {
	cfg     Config
	addr    string // host:port
	ldaps   bool
	tls     *tls.Config
	byCN    map[string]auth.Role // lower-cased CN → role
	byDN    []dnRole
	userAtt []string
}

type dnRole struct {
	dn   *goldap.DN
	role auth.Role
}

// New validates c, fills in defaults and loads CAFile.
func New(c Config) (*Directory, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.EmailAttr == "" {
		c.EmailAttr = DefaultEmailAttr
	}
	if c.NameAttr == "" {
		c.NameAttr = DefaultNameAttr
	}
	if c.LoginAttr == "" {
		c.LoginAttr = DefaultLoginAttr
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	u, _ := url.Parse(c.URL) // Validate parsed it
	d := &Directory{
		cfg:     c,
		ldaps:   u.Scheme == "ldaps",
		byCN:    map[string]auth.Role{},
		userAtt: []string{c.EmailAttr, c.NameAttr, c.LoginAttr},
	}
	port := u.Port()
	if port == "" {
		port = "389"
		if d.ldaps {
			port = "636"
		}
	}
	d.addr = net.JoinHostPort(u.Hostname(), port)
	if d.ldaps || c.StartTLS {
		d.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ldap: ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ldap: ca_file %s: no PEM certificate", c.CAFile)
			}
			d.tls.RootCAs = pool
		}
	}
	for _, g := range sortedKeys(c.GroupRoles) {
		r := c.GroupRoles[g]
		if strings.Contains(g, "=") {
			dn, _ := goldap.ParseDN(g) // Validate parsed it
			d.byDN = append(d.byDN, dnRole{dn, r})
		} else {
			d.byCN[strings.ToLower(strings.TrimSpace(g))] = r
		}
	}
	return d, nil
}

// Config returns the configuration with defaults filled in.
func (d *Directory) Config() Config { return d.cfg }

// Authenticate checks login and password by binding as the user, reads the
// user's e-mail and name, and maps the user's groups to roles. An empty
// password is refused before anything is sent: in LDAP it would be an
// unauthenticated bind, which "succeeds" without checking anything.
//
// On ErrNoRole the returned Identity is filled in (without roles) so the
// caller knows who was turned away; steward's sign-in does not log it, as
// it logs no failed attempt's login, DN or address.
func (d *Directory) Authenticate(ctx context.Context, login, password string) (Identity, error) {
	if password == "" || len(password) > maxPasswordLen ||
		login == "" || len(login) > maxLoginLen || !utf8.ValidString(login) {
		return Identity{}, ErrInvalidCredentials
	}
	if err := ctx.Err(); err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()

	conn, err := d.dial(ctx)
	if err != nil {
		return Identity{}, d.unavailable(ctx, "connect", err)
	}
	defer conn.Close()
	// Cancelling ctx (or its deadline) closes the connection, which ends
	// any request in flight.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var entry *goldap.Entry
	if d.cfg.UserDNTemplate != "" {
		dn := strings.Replace(d.cfg.UserDNTemplate, placeholder, goldap.EscapeDN(login), 1)
		if err := d.bindUser(ctx, conn, dn, password); err != nil {
			return Identity{}, err
		}
		if err := d.bindService(ctx, conn); err != nil {
			return Identity{}, err
		}
		entry, err = d.readEntry(conn, dn)
		if err != nil {
			return Identity{}, d.unavailable(ctx, "read user entry", err)
		}
	} else {
		if err := d.bindService(ctx, conn); err != nil {
			return Identity{}, err
		}
		entry, err = d.findUser(ctx, conn, login)
		if err != nil {
			return Identity{}, err
		}
		if err := d.bindUser(ctx, conn, entry.DN, password); err != nil {
			return Identity{}, err
		}
		// Read groups as the service account, not as the user.
		if err := d.bindService(ctx, conn); err != nil {
			return Identity{}, err
		}
	}

	id := Identity{
		DN:    entry.DN,
		Login: entry.GetAttributeValue(d.cfg.LoginAttr),
		Email: entry.GetAttributeValue(d.cfg.EmailAttr),
		Name:  entry.GetAttributeValue(d.cfg.NameAttr),
	}
	if id.Login == "" {
		id.Login = login
	}
	id.Roles, err = d.roles(conn, entry.DN)
	if err != nil {
		return Identity{}, d.unavailable(ctx, "read groups", err)
	}
	if len(id.Roles) == 0 {
		return id, ErrNoRole
	}
	return id, nil
}

// dial connects within ctx, upgrades with StartTLS if configured, and puts
// ctx's deadline on the socket so nothing can hang past it.
func (d *Directory) dial(ctx context.Context) (*goldap.Conn, error) {
	deadline, _ := ctx.Deadline()
	nd := &net.Dialer{Timeout: d.cfg.Timeout}
	var (
		nc  net.Conn
		err error
	)
	if d.ldaps {
		nc, err = (&tls.Dialer{NetDialer: nd, Config: d.tls}).DialContext(ctx, "tcp", d.addr)
	} else {
		nc, err = nd.DialContext(ctx, "tcp", d.addr)
	}
	if err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(deadline); err != nil {
		_ = nc.Close()
		return nil, err
	}
	conn := goldap.NewConn(nc, d.ldaps)
	conn.Start()
	// go-ldap's own per-request timer is only a backstop: ctx (which
	// closes the connection) and the socket deadline come first, so a
	// timeout is reported as context.DeadlineExceeded.
	conn.SetTimeout(time.Until(deadline) + 100*time.Millisecond)
	if d.cfg.StartTLS {
		if err := conn.StartTLS(d.tls); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("start tls: %w", err)
		}
	}
	return conn, nil
}

// bindUser checks the user's password. The password is never part of an
// error: go-ldap's errors carry the server's result and diagnostic only.
func (d *Directory) bindUser(ctx context.Context, conn *goldap.Conn, dn, password string) error {
	_, err := conn.SimpleBind(&goldap.SimpleBindRequest{Username: dn, Password: password})
	if err == nil {
		return nil
	}
	switch resultCode(err) {
	case goldap.LDAPResultInvalidCredentials, // wrong password, or no such DN
		goldap.LDAPResultInvalidDNSyntax,
		goldap.LDAPResultNoSuchObject,
		goldap.LDAPResultInappropriateAuthentication,
		goldap.LDAPResultUnwillingToPerform, // e.g. locked account, bind_anon_dn off
		goldap.ErrorEmptyPassword:
		return ErrInvalidCredentials
	}
	return d.unavailable(ctx, "bind", err)
}

// bindService binds as the service account, if one is configured. Its
// failure is a configuration problem, so it is ErrUnavailable.
func (d *Directory) bindService(ctx context.Context, conn *goldap.Conn) error {
	if d.cfg.BindDN == "" {
		return nil
	}
	_, err := conn.SimpleBind(&goldap.SimpleBindRequest{Username: d.cfg.BindDN, Password: d.cfg.BindPassword})
	if err != nil {
		return d.unavailable(ctx, "service account bind", err)
	}
	return nil
}

// findUser runs UserFilter under UserBase; exactly one entry must match.
func (d *Directory) findUser(ctx context.Context, conn *goldap.Conn, login string) (*goldap.Entry, error) {
	filter := strings.ReplaceAll(d.cfg.UserFilter, placeholder, goldap.EscapeFilter(login))
	res, err := conn.Search(d.search(d.cfg.UserBase, goldap.ScopeWholeSubtree, filter, d.userAtt, 2))
	if resultCode(err) == goldap.LDAPResultSizeLimitExceeded {
		return nil, fmt.Errorf("%w: login matches several directory entries", ErrInvalidCredentials)
	}
	if err != nil {
		// Includes noSuchObject: a wrong user_base, or one the
		// (anonymous) searcher may not see. Either way the directory is
		// unusable as configured, not the user's fault.
		return nil, d.unavailable(ctx, "search user", err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, ErrInvalidCredentials
	case 1:
		return res.Entries[0], nil
	default:
		return nil, fmt.Errorf("%w: login matches several directory entries", ErrInvalidCredentials)
	}
}

// readEntry reads the user's own entry (template mode).
func (d *Directory) readEntry(conn *goldap.Conn, dn string) (*goldap.Entry, error) {
	res, err := conn.Search(d.search(dn, goldap.ScopeBaseObject, "(objectClass=*)", d.userAtt, 1))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, errors.New("entry not readable after bind")
	}
	return res.Entries[0], nil
}

// roles finds the groups of userDN and maps them, in auth.Roles order.
func (d *Directory) roles(conn *goldap.Conn, userDN string) ([]auth.Role, error) {
	filter := strings.ReplaceAll(d.cfg.GroupFilter, placeholder, goldap.EscapeFilter(userDN))
	res, err := conn.Search(d.search(d.cfg.GroupBase, goldap.ScopeWholeSubtree, filter, []string{"cn"}, 0))
	if err != nil {
		return nil, err
	}
	got := map[auth.Role]bool{}
	for _, e := range res.Entries {
		for _, cn := range e.GetAttributeValues("cn") {
			if r, ok := d.byCN[strings.ToLower(cn)]; ok {
				got[r] = true
			}
		}
		if len(d.byDN) == 0 {
			continue
		}
		dn, err := goldap.ParseDN(e.DN)
		if err != nil {
			continue
		}
		for _, m := range d.byDN {
			if m.dn.EqualFold(dn) {
				got[m.role] = true
			}
		}
	}
	var roles []auth.Role
	for _, r := range auth.Roles {
		if got[r] {
			roles = append(roles, r)
		}
	}
	return slices.Clip(roles), nil
}

func (d *Directory) search(base string, scope int, filter string, attrs []string, size int) *goldap.SearchRequest {
	secs := int(math.Ceil(d.cfg.Timeout.Seconds()))
	return goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, size, secs, false, filter, attrs, nil)
}

// unavailable wraps err as ErrUnavailable, and as ctx's error when ctx ended.
func (d *Directory) unavailable(ctx context.Context, step string, err error) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		cerr = context.DeadlineExceeded // the socket deadline beat ctx's timer
	}
	if cerr != nil {
		return fmt.Errorf("%w: %s: %w (%v)", ErrUnavailable, step, cerr, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, step, err)
}

func resultCode(err error) uint16 {
	var le *goldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}
