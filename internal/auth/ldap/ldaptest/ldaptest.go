// Package ldaptest runs a real OpenLDAP slapd for tests: a throw-away
// directory on free 127.0.0.1 ports, with a fresh configuration, database
// and TLS certificate in the test's temporary directory. It never touches
// /etc/ldap (beyond reading the schema files) or the system's slapd, and
// needs no privileges.
//
// When slapd is not installed, Start skips the test, unless the CI
// environment variable is set, in which case it fails it. On Debian:
//
//	apt-get install -y slapd ldap-utils
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-privacy/steward/internal/auth/ldap"
)

// Server is a running slapd loaded with the fixture (see Users).
type Server struct {
	URL      string // ldap://127.0.0.1:PORT (StartTLS offered)
	LDAPSURL string // ldaps://127.0.0.1:PORT
	BaseDN   string
	CAFile   string // PEM of the CA that signed the server's certificate

	cmd      *exec.Cmd
	done     chan struct{} // closed when slapd has exited
	log      *syncBuffer
	stopOnce sync.Once
}

// Config is a template-mode configuration for the fixture over StartTLS:
// bind as uid=LOGIN,ou=people, then read groups as the user.
func (s *Server) Config() ldap.Config {
	return ldap.Config{
		URL:            s.URL,
		StartTLS:       true,
		CAFile:         s.CAFile,
		UserDNTemplate: "uid=%s," + PeopleDN,
		GroupBase:      GroupsDN,
		GroupFilter:    "(&(objectClass=groupOfNames)(member=%s))",
		GroupRoles:     GroupRoles(),
		Timeout:        5 * time.Second,
	}
}

// SearchConfig is a search-then-bind configuration for the fixture over
// ldaps://, searching as the service account.
func (s *Server) SearchConfig() ldap.Config {
	return ldap.Config{
		URL:          s.LDAPSURL,
		CAFile:       s.CAFile,
		BindDN:       ServiceDN,
		BindPassword: ServicePassword,
		UserBase:     PeopleDN,
		UserFilter:   "(&(objectClass=inetOrgPerson)(uid=%s))",
		GroupBase:    GroupsDN,
		GroupFilter:  "(&(objectClass=groupOfNames)(member=%s))",
		GroupRoles:   GroupRoles(),
		Timeout:      5 * time.Second,
	}
}

// Stop shuts slapd down (its whole process group) and waits for it, so
// tests can see what "directory down" looks like. Calling it again does
// nothing; Start registers it with t.Cleanup.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		terminate(s.cmd, false)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			terminate(s.cmd, true)
			<-s.done
		}
	})
}

// Start runs slapd with the fixture and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findSlapd()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ldaptest: %v (CI is set, so this is fatal; install with: apt-get install -y slapd ldap-utils)", err)
		}
		t.Skipf("ldaptest: %v; install with: apt-get install -y slapd ldap-utils (or set CI to make this fatal)", err)
	}
	dir := t.TempDir()

	ca, err := writeCerts(dir)
	if err != nil {
		t.Fatalf("ldaptest: certificates: %v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(t, bin, dir, ca)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("ldaptest: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("port taken")

// start writes a fresh configuration and database under dir/run and runs
// slapd on two newly picked ports.
func start(t testing.TB, bin slapdBin, dir, ca string) (*Server, error) {
	run := filepath.Join(dir, "run")
	if err := os.RemoveAll(run); err != nil {
		return nil, err
	}
	data := filepath.Join(run, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(run, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(bin, dir, run, data)), 0o600); err != nil {
		return nil, err
	}
	ldif := filepath.Join(run, "fixture.ldif")
	if err := os.WriteFile(ldif, []byte(fixtureLDIF()), 0o600); err != nil {
		return nil, err
	}
	add := exec.Command(bin.slapadd, "-f", conf, "-b", BaseDN, "-l", ldif)
	add.Env = slapdEnv()
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd: %v\n%s", err, out)
	}

	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:      fmt.Sprintf("ldap://127.0.0.1:%d", ports[0]),
		LDAPSURL: fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1]),
		BaseDN:   BaseDN,
		CAFile:   ca,
		done:     make(chan struct{}),
		log:      &syncBuffer{},
	}
	// -d none: stay in the foreground and log only what is always logged
	// (startup errors), to stderr.
	s.cmd = exec.Command(bin.slapd, "-d", "none", "-f", conf,
		"-h", s.URL+"/ "+s.LDAPSURL+"/")
	s.cmd.Env = slapdEnv()
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	setProcessGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %v", bin.slapd, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	if err := s.waitReady(10 * time.Second); err != nil {
		s.Stop()
		out := s.log.String()
		if strings.Contains(out, "Address already in use") {
			return nil, fmt.Errorf("%w: %s", errPortTaken, out)
		}
		return nil, fmt.Errorf("slapd did not come up: %v\n%s", err, out)
	}
	t.Logf("ldaptest: slapd on %s and %s (pid %d)", s.URL, s.LDAPSURL, s.cmd.Process.Pid)
	return s, nil
}

// waitReady polls until the rootdn can bind, or slapd exits.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("slapd exited")
		default:
		}
		var c *goldap.Conn
		c, err = goldap.DialURL(s.URL, goldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			c.SetTimeout(time.Second)
			err = c.Bind(AdminDN, AdminPassword)
			_ = c.Close()
			if err == nil {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

func slapdConf(bin slapdBin, dir, run, data string) string {
	var b strings.Builder
	for _, sc := range []string{"core", "cosine", "inetorgperson"} {
		fmt.Fprintf(&b, "include %s\n", quote(filepath.Join(bin.schema, sc+".schema")))
	}
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", quote(filepath.Join(run, "slapd.pid")), quote(filepath.Join(run, "slapd.args")))
	if bin.modules != "" {
		fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", quote(bin.modules))
	}
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n",
		quote(filepath.Join(dir, "ca.pem")), quote(filepath.Join(dir, "server.pem")), quote(filepath.Join(dir, "server.key")))
	fmt.Fprintf(&b, `
database mdb
suffix %q
rootdn %q
rootpw %q
directory %s
maxsize 16777216
# Passwords: only for binding. Everything else: readable by anyone bound,
# invisible to anonymous clients.
access to attrs=userPassword
	by self =x
	by anonymous auth
	by * none
access to *
	by users read
	by * none
`, BaseDN, AdminDN, AdminPassword, quote(data))
	return b.String()
}

func quote(p string) string { return `"` + strings.ReplaceAll(p, `"`, `\"`) + `"` }

// slapdEnv keeps libldap from reading the host's ldap.conf or ~/.ldaprc.
func slapdEnv() []string { return append(os.Environ(), "LDAPNOINIT=1") }

type slapdBin struct {
	slapd, slapadd string
	schema         string // directory with core.schema
	modules        string // directory with back_mdb, or "" when built in
}

func findSlapd() (slapdBin, error) {
	var b slapdBin
	for _, p := range []string{"/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/libexec/slapd", "/usr/local/libexec/slapd"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			b.slapd = p
			break
		}
	}
	if b.slapd == "" {
		p, err := exec.LookPath("slapd")
		if err != nil {
			return b, errors.New("slapd is not installed")
		}
		b.slapd = p
	}
	// slapadd is slapd under another name; prefer the one beside slapd.
	for _, dir := range []string{filepath.Dir(b.slapd), "/usr/sbin", "/usr/local/sbin"} {
		if _, err := os.Stat(filepath.Join(dir, "slapadd")); err == nil {
			b.slapadd = filepath.Join(dir, "slapadd")
			break
		}
	}
	if b.slapadd == "" {
		p, err := exec.LookPath("slapadd")
		if err != nil {
			return b, errors.New("slapadd is not installed (it comes with slapd)")
		}
		b.slapadd = p
	}
	for _, dir := range []string{"/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema", "/usr/share/openldap/schema"} {
		if _, err := os.Stat(filepath.Join(dir, "core.schema")); err == nil {
			b.schema = dir
			break
		}
	}
	if b.schema == "" {
		return b, errors.New("slapd is installed, but its schema files (core.schema) were not found")
	}
	for _, dir := range []string{"/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/libexec/openldap", "/usr/local/libexec/openldap"} {
		if m, _ := filepath.Glob(filepath.Join(dir, "back_mdb*")); len(m) > 0 {
			b.modules = dir
			break
		}
	}
	return b, nil
}

// freePorts picks n distinct free ports on 127.0.0.1. Another process may
// take one before slapd binds it; Start then retries.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeCerts makes a CA and a server certificate for 127.0.0.1/localhost
// in dir, and returns the CA file's path.
func writeCerts(dir string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ldaptest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	files := map[string]*pem.Block{
		"ca.pem":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "PRIVATE KEY", Bytes: keyDER},
	}
	for name, blk := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "ca.pem"), nil
}

// syncBuffer collects slapd's output from exec's copying goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
