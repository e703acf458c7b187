package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/auth/ldap/ldaptest"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/signin"
)

// logLines returns the JSON log lines whose msg is msg.
func logLines(t *testing.T, n *node, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(n.logs.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestSignInLogsNoLogin: a password typed into the login field, or a
// staff address, must not reach the log or the database through a failed
// sign-in. The log holds a keyed hash of the login instead, the same for
// the same login, so a guessing run can still be followed.
func TestSignInLogsNoLogin(t *testing.T) {
	dir := ldaptest.Start(t)
	cfg := testConfig(t, "")
	lc := dir.Config()
	roles := map[string]string{}
	for g, r := range lc.GroupRoles {
		roles[g] = string(r)
	}
	cfg.LDAP = &config.LDAP{URL: lc.URL, StartTLS: true, CAFile: lc.CAFile, UserDNTemplate: lc.UserDNTemplate,
		GroupBase: lc.GroupBase, GroupFilter: lc.GroupFilter, GroupRoles: roles, Timeout: 3 * time.Second}
	n := startNode(t, cfg)
	addUser(t, n, "sam@staff.example.org", auth.Support)

	// Someone types their password into the login field, twice; then a
	// staff address with a wrong password; then a directory user.
	const typedPassword = "Hunter2-Distinctive-9731"
	alice := ldaptest.Lookup("alice")
	p := newPage(t, n.http.URL)
	for _, try := range [][2]string{
		{typedPassword, "whatever was typed"},
		{typedPassword, "whatever was typed"},
		{"Sam@Staff.Example.org", "not sam's password"},
		{alice.Login, "not alice's password"},
	} {
		if s, _, _ := p.login(try[0], try[1], "", ""); s != 401 {
			t.Fatalf("sign-in as %q: %d, want 401", try[0], s)
		}
	}
	// Throttled: the account's failures (one above, in another case)
	// reach the limit.
	for i := 1; i < signin.MaxPerAccount; i++ {
		p.login("sam@staff.example.org", "not sam's password", "", "")
	}
	if s, _, _ := p.login("sam@staff.example.org", staffPassword, "", ""); s != 429 {
		t.Fatalf("throttled sign-in: %d", s)
	}
	// The directory is down.
	dir.Stop()
	if s, _, _ := p.login(alice.Email, "not alice's password", "", ""); s != 401 {
		t.Fatalf("directory down: %d", s)
	}

	logs := n.logs.String()
	for _, leak := range []string{typedPassword, strings.ToLower(typedPassword), url.QueryEscape(typedPassword),
		"sam@staff", "Sam@Staff", alice.Email, alice.DN(), "uid=" + alice.Login, `"` + alice.Login + `"`} {
		if strings.Contains(logs, leak) {
			t.Errorf("the log holds %q:\n%s", leak, logs)
		}
	}
	refused := logLines(t, n, "signin: refused")
	if len(refused) < 4 {
		t.Fatalf("%d refusals logged, want at least 4:\n%s", len(refused), logs)
	}
	hashes := make([]string, len(refused))
	for i, m := range refused {
		h, _ := m["login_hash"].(string)
		if len(h) != 16 || strings.Trim(h, "0123456789abcdef") != "" {
			t.Fatalf("refusal %d logs login_hash %q, want 16 hex digits: %v", i, h, m)
		}
		hashes[i] = h
	}
	if hashes[0] != hashes[1] {
		t.Errorf("the same login logged two hashes: %s %s", hashes[0], hashes[1])
	}
	if hashes[0] == hashes[2] || hashes[2] == hashes[3] {
		t.Errorf("different logins logged the same hash: %v", hashes)
	}
	// The address in another case is the same account, and the same hash.
	if hashes[4] != hashes[2] {
		t.Errorf("sam@ and Sam@ logged different hashes: %v", hashes)
	}
	throttled := logLines(t, n, "signin: throttled")
	if len(throttled) != 1 || throttled[0]["login_hash"] != hashes[2] {
		t.Errorf("throttled line %v, want login_hash %s", throttled, hashes[2])
	}
	if len(logLines(t, n, "signin: directory unavailable")) == 0 {
		t.Errorf("the directory outage was not logged:\n%s", logs)
	}

	// Nor does the typed text stay in the database's failure counts.
	n.http.Close()
	n.srv.Close()
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
	for _, f := range files {
		if raw, err := os.ReadFile(f); err == nil && bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(typedPassword))) {
			t.Errorf("%s holds the text typed as a login", filepath.Base(f))
		}
	}
}
