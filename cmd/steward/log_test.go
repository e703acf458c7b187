package main

import (
	"database/sql"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"
)

// TestAccessLogCLI reads data through a running steward (each read is an
// access-log entry), then checks the chain with `steward log verify`,
// edits one entry behind steward's back and sees verify name it.
func TestAccessLogCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin, dir, addr := stewardBinary(t), migratedDir(t), freeAddr(t)
	out, err := exec.Command(bin, "token", "create", "--role", "data_steward", "--name", "verify test", "--data", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	p := startProcess(t, dir, addr)
	for i := range 3 {
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/datasets/interaction_data/events?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&purpose=data_quality", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if i == 2 {
			req.Header.Set("X-Steward-Purpose", "marketing") // refused, and logged
			req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "&purpose=data_quality", "", 1)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()

	verify := func(anchors ...string) (string, int) {
		args := []string{"log", "verify", "--data", dir}
		for _, a := range anchors {
			args = append(args, "--anchor", a)
		}
		cmd := exec.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	if out, code := verify(); code != 0 || !strings.HasPrefix(out, "ok: 3 entries verified") {
		t.Fatalf("verify: %d %s", code, out)
	}
	head, err := exec.Command(bin, "log", "head", "--data", dir).Output()
	if err != nil || !strings.HasPrefix(string(head), "3 ") || len(strings.Fields(string(head))[1]) != 64 {
		t.Fatalf("head: %s %v", head, err)
	}

	// The head, copied elsewhere, anchors the chain.
	f := strings.Fields(string(head))
	anchor := f[0] + ":" + f[1]
	if out, code := verify(anchor); code != 0 || !strings.Contains(out, "1 anchor(s) match") {
		t.Fatalf("verify with the anchor: %d %s", code, out)
	}
	for _, bad := range []string{"3", "x:" + f[1], "3:abc", "0:" + f[1]} {
		if out, code := verify(bad); code != 2 || !strings.Contains(out, "anchor") {
			t.Errorf("--anchor %q: exit %d, %q", bad, code, out)
		}
	}

	// Someone with the file drops the triggers and cuts the last entry
	// off: the chain alone still holds, the anchor does not.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE access_log SET records = 0 WHERE seq = 2"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("the trigger let an update through: %v", err)
	}
	for _, q := range []string{"DROP TRIGGER access_log_no_delete", "DELETE FROM access_log WHERE seq = 3"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if out, code := verify(); code != 0 || !strings.HasPrefix(out, "ok: 2 entries") {
		t.Fatalf("verify of the shortened chain without an anchor: %d %s", code, out)
	}
	if msg, code := verify(anchor); code != 1 || !strings.Contains(msg, "entry 3") || !strings.Contains(msg, "cut short") {
		t.Fatalf("verify of the shortened chain with the anchor: %d %s", code, msg)
	}
	// And softens entry 2 in place.
	for _, q := range []string{"DROP TRIGGER access_log_no_update", "UPDATE access_log SET records = records + 5 WHERE seq = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	msg, code := verify()
	if code != 1 || !strings.Contains(msg, "access log broken at entry 2") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Fatalf("verify after tampering: exit %d, %q", code, msg)
	}
}

// TestUserCommands tries `steward user` as an administrator would,
// including the mistakes: each gets one line and a non-zero exit.
func TestUserCommands(t *testing.T) {
	dir := migratedDir(t)
	run := func(stdin string, args ...string) (string, int) {
		full := append([]string{args[0], args[1], "--data", dir}, args[2:]...)
		cmd := exec.Command(stewardBinary(t), full...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("a long enough password\n", "user", "add", "--email", "Sam@Example.org", "--role", "support"); code != 0 || !strings.Contains(out, "sam@example.org") {
		t.Fatalf("user add: %d %s", code, out)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"a long enough password\n", []string{"user", "add", "--email", "sam@example.org", "--role", "support"}, "already exists"},
		{"a long enough password\n", []string{"user", "add", "--email", "x@example.org", "--role", "app"}, "unknown role"},
		{"a long enough password\n", []string{"user", "add", "--email", "not an address", "--role", "admin"}, "not an e-mail address"},
		{"short\n", []string{"user", "add", "--email", "y@example.org", "--role", "admin"}, "12 to 256 characters"},
		{"", []string{"user", "add", "--email", "y@example.org", "--role", "admin"}, "no password given"},
		{"", []string{"user", "add", "--email", "y@example.org", "--role", "admin", "--password", "x"}, "not defined"},
		{"", []string{"user", "disable", "nobody@example.org"}, "no account for"},
		{"", []string{"user", "frobnicate"}, "unknown user command"},
	} {
		out, code := run(c.stdin, c.args...)
		if code == 0 || !strings.Contains(out, c.want) || strings.Count(strings.TrimSpace(out), "\n") > 0 && !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d, %q; want a failure saying %q", c.args, code, out, c.want)
		}
	}
	if out, _ := run("", "user", "list"); !strings.Contains(out, "sam@example.org") || !strings.Contains(out, "active") || strings.Contains(out, "argon2") {
		t.Fatalf("user list: %s", out)
	}
	if out, code := run("", "user", "disable", "sam@example.org"); code != 0 {
		t.Fatalf("disable: %s", out)
	}
	if out, _ := run("", "user", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("user list after disable: %s", out)
	}
}

// TestServeCPUProfile: --cpu-profile writes a profile that pprof can read
// once the server stops gracefully.
func TestServeCPUProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	p := startProcess(t, dir, freeAddr(t), "--cpu-profile", prof)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, p.logs)
	}
	// A pprof profile is a gzipped protocol buffer.
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 20 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("no profile written: %d bytes, %v", len(b), err)
	}
}
