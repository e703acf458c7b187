package main

import (
	"database/sql"
	"net/http"
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
	bin, dir, addr := stewardBinary(t), t.TempDir(), freeAddr(t)
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

	verify := func() (string, int) {
		cmd := exec.Command(bin, "log", "verify", "--data", dir)
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

	// Someone with the file drops the trigger and softens entry 2.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE access_log SET records = 0 WHERE seq = 2"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("the trigger let an update through: %v", err)
	}
	for _, q := range []string{"DROP TRIGGER access_log_no_update", "UPDATE access_log SET purpose = 'data_quality', decision = 'allowed' WHERE seq = 3"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	msg, code := verify()
	if code != 1 || !strings.Contains(msg, "access log broken at entry 3") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Fatalf("verify after tampering: exit %d, %q", code, msg)
	}
}
