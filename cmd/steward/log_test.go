package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
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
	if out, code := verify(); code != 0 || !strings.HasPrefix(out, "ok: 3 entries verified") || !strings.Contains(out, "1 signed checkpoint matches;") {
		t.Fatalf("verify: %d %s", code, out)
	}
	head, err := exec.Command(bin, "log", "head", "--data", dir).Output()
	if err != nil || !strings.HasPrefix(string(head), "3 ") || len(strings.Fields(string(head))[1]) != 64 {
		t.Fatalf("head: %s %v", head, err)
	}

	// The head, copied elsewhere, anchors the chain.
	f := strings.Fields(string(head))
	anchor := f[0] + ":" + f[1]
	if out, code := verify(anchor); code != 0 || !strings.Contains(out, "ok: 1 anchor matches") {
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
	// The chain alone cannot tell; the checkpoint steward signed at
	// shutdown names the missing entry as an anchor would.
	if msg, code := verify(); code != 1 || !strings.Contains(msg, "entry 3") || !strings.Contains(msg, "checkpoint #1") || !strings.Contains(msg, "cut short") ||
		!strings.Contains(msg, "(the 2 entries before it verified)") {
		t.Fatalf("verify of the shortened chain without an anchor: %d %s", code, msg)
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
	if code != 1 || !strings.Contains(msg, "access log broken at entry 2") || !strings.Contains(msg, "(the entry before it verified)") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Fatalf("verify after tampering: exit %d, %q", code, msg)
	}
}

// TestAccessLogCheckpointsCLI: steward signs the head at shutdown and
// queues a copy for the witness; an insider who rewrites an entry and
// recomputes every later hash is caught by the stored checkpoint, and,
// once they delete that too, by the witness's copy given to verify.
func TestAccessLogCheckpointsCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	ctx := context.Background()
	bin, dir, addr := stewardBinary(t), migratedDir(t), freeAddr(t)
	cfg := filepath.Join(dir, "steward.yaml")
	os.WriteFile(cfg, []byte("webhooks:\n  auditors: http://127.0.0.1:9/hook\n"), 0o600)
	out, err := exec.Command(bin, "token", "create", "--role", "data_steward", "--name", "reader", "--data", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	p := startProcess(t, dir, addr, "--config", cfg, "--checkpoint-email", "auditor@example.org", "--checkpoint-webhook", "auditors")
	for range 4 {
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/datasets/interaction_data/events?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&purpose=data_quality", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil || !strings.Contains(p.logs.String(), "checkpoint signed") {
		t.Fatalf("serve: %v\n%s", err, p.logs)
	}
	run := func(args ...string) (string, int) {
		out, err := exec.Command(bin, append(args, "--data", dir)...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	list, code := run("log", "checkpoints")
	if code != 0 || !regexp.MustCompile(`(?m)^#1\t4\t[0-9a-f]{64}\t\S+\tsignature ok$`).MatchString(list) || !strings.HasPrefix(list, "public key ") {
		t.Fatalf("log checkpoints: %d %s", code, list)
	}
	pubKey := strings.Fields(strings.SplitN(list, "\n", 2)[0])[2]

	// The witness's copies: an e-mail to the auditor and a webhook post.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mailBody, hookBody string
	if err := db.QueryRow("SELECT body FROM outbox WHERE ref = 'access-checkpoint:4' AND kind = 'email' AND recipient = 'auditor@example.org'").Scan(&mailBody); err != nil {
		t.Fatalf("e-mail copy: %v", err)
	}
	if err := db.QueryRow("SELECT body FROM outbox WHERE ref = 'access-checkpoint:4' AND kind = 'webhook' AND recipient = 'auditors'").Scan(&hookBody); err != nil {
		t.Fatalf("webhook copy: %v", err)
	}
	kept := filepath.Join(t.TempDir(), "checkpoint-mail.txt")
	os.WriteFile(kept, []byte(mailBody), 0o600)

	// The insider: entry 2 rewritten, 2 to 4 rehashed, so the chain holds.
	st, err := backends.Open(ctx, "", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	var es []*store.AccessEntry
	st.ScanAccess(ctx, 0, 100, func(e *store.AccessEntry) error { es = append(es, e); return nil })
	st.Close()
	stmts := []string{"DROP TRIGGER access_log_no_update"}
	for i := 1; i < len(es); i++ {
		if i == 1 {
			es[i].Purpose = "product_improvement"
		}
		accesslog.Seal(es[i], es[i-1].Hash)
		stmts = append(stmts, fmt.Sprintf("UPDATE access_log SET purpose = '%s', prev_hash = X'%x', hash = X'%x' WHERE seq = %d", es[i].Purpose, es[i].PrevHash, es[i].Hash, es[i].Seq))
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	msg, code := run("log", "verify")
	if code != 1 || strings.Count(strings.TrimSpace(msg), "\n") != 0 || !strings.Contains(msg, "access log broken at entry 4: its hash differs from the one in checkpoint #1 (entry 4,") ||
		!strings.Contains(msg, "an entry from 1 to 4 was rewritten") {
		t.Fatalf("verify after the rewrite: exit %d, %q", code, msg)
	}
	// The insider deletes the checkpoint too: only the witness can tell.
	for _, q := range []string{"DROP TRIGGER access_checkpoints_no_delete", "DELETE FROM access_checkpoints"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if out, code := run("log", "verify"); code != 0 || !strings.Contains(out, "note: no signed checkpoint is stored") {
		t.Fatalf("verify without the checkpoint: exit %d, %q", code, out)
	}
	msg, code = run("log", "verify", "--checkpoint", kept)
	if code != 1 || strings.Count(strings.TrimSpace(msg), "\n") != 0 || !strings.Contains(msg, "entry 4: its hash differs from the one in the checkpoint from "+kept+" (entry 4,") {
		t.Fatalf("verify against the e-mailed copy: exit %d, %q", code, msg)
	}
	hook := filepath.Join(t.TempDir(), "hook.json")
	os.WriteFile(hook, []byte(hookBody), 0o600)
	if msg, code := run("log", "verify", "--checkpoint", hook, "--public-key", pubKey); code != 1 || !strings.Contains(msg, "entry 4") {
		t.Fatalf("verify against the webhook's copy: exit %d, %q", code, msg)
	}

	// A checkpoint signed with another key is reported as forged.
	k, _ := minimise.NewKeyer([]byte("another server's hashing key, 32+ bytes"))
	other := accesslog.SignCheckpoint(accesslog.CheckpointKey(k), 3, es[2].Hash, time.Now())
	if _, err := db.Exec("INSERT INTO access_checkpoints(seq, hash, signed_at, signed) VALUES (3, ?, ?, ?)", other.Hash, other.SignedAt.UnixMicro(), other.Signed); err != nil {
		t.Fatal(err)
	}
	if msg, code := run("log", "verify"); code != 1 || strings.Count(strings.TrimSpace(msg), "\n") != 0 ||
		!strings.Contains(msg, "access log checkpoint forged: checkpoint #1 (entry 3,") || !strings.Contains(msg, "another key") {
		t.Fatalf("verify with a forged checkpoint: exit %d, %q", code, msg)
	}
	if out, code := run("log", "checkpoints"); code != 1 || !strings.Contains(out, "FORGED") {
		t.Fatalf("log checkpoints with a forged one: exit %d, %q", code, out)
	}
	// Without the hashing key the stored checkpoints cannot be checked:
	// verify says so, and takes the public key instead.
	bare := t.TempDir()
	if _, err := db.Exec("VACUUM INTO ?", filepath.Join(bare, "steward.db")); err != nil {
		t.Fatal(err)
	}
	out2, err := exec.Command(bin, "log", "verify", "--data", bare).CombinedOutput()
	if !strings.Contains(string(out2), "no key to check them") || !strings.Contains(string(out2), "--public-key") || err == nil {
		t.Fatalf("verify without the key: %v %q", err, out2)
	}
	out2, _ = exec.Command(bin, "log", "verify", "--data", bare, "--public-key", pubKey).CombinedOutput()
	if !strings.Contains(string(out2), "checkpoint forged") {
		t.Fatalf("verify with --public-key: %q", out2)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"log", "verify", "--checkpoint", filepath.Join(bare, "none.txt")}, "checkpoint file"},
		{[]string{"log", "verify", "--checkpoint", filepath.Join(dir, "steward.yaml")}, "no signed checkpoint in it"},
		{[]string{"log", "verify", "--public-key", "abc"}, "public key"},
		{[]string{"log", "checkpoints", "extra"}, "usage"},
	} {
		if out, code := run(c.args...); code != 2 || !strings.Contains(out, c.want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("%v: exit %d, %q; want exit 2, one line with %q", c.args, code, out, c.want)
		}
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
