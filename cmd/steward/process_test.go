package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// These tests run the real binary as a separate process, so they can kill
// it the way an operator's machine would.

var buildOnce struct {
	sync.Once
	path string
	err  error
}

func stewardBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "steward-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "steward")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func startProcess(t *testing.T, dataDir, addr string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--data", dataDir, "--rate", "0"}, extra...)
	cmd := exec.Command(stewardBinary(t), args...)
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, logs: logs}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("steward did not become ready:\n%s", logs)
	return nil
}

// sender posts events with unique ids until stopped, recording the ids the
// server acknowledged.
func sender(t *testing.T, base string, stop <-chan struct{}, acked *sync.Map, wg *sync.WaitGroup) {
	defer wg.Done()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/v1/csrf")
	if err != nil {
		t.Errorf("csrf: %v", err)
		return
	}
	var tok struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := uuid.NewString()
		req, _ := http.NewRequest("POST", base+"/v1/collect/interaction_data", strings.NewReader(`{"event_id":"`+id+`","language":"en"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", tok.Token)
		resp, err := c.Do(req)
		if err != nil {
			continue // the server died mid-request: not acknowledged
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			acked.Store(id, true)
		}
	}
}

func storedIDs(t *testing.T, dataDir, base string) map[string]bool {
	t.Helper()
	out, err := exec.Command(stewardBinary(t), "token", "create", "--role", "data_steward", "--name", "crash test", "--data", dataDir).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	tok := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	req, _ := http.NewRequest("GET", base+"/v1/datasets/interaction_data/events?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&purpose=data_quality", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ids := map[string]bool{}
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var e struct {
			EventID string `json:"event_id"`
		}
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		if ids[e.EventID] {
			t.Errorf("event %s stored twice", e.EventID)
		}
		ids[e.EventID] = true
	}
	return ids
}

func runLoadThenStop(t *testing.T, sig syscall.Signal) {
	data := t.TempDir()
	addr := freeAddr(t)
	p := startProcess(t, data, addr)
	var acked sync.Map
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go sender(t, "http://"+addr, stop, &acked, &wg)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	waitErr := p.cmd.Wait()
	close(stop)
	wg.Wait()
	if sig == syscall.SIGTERM && waitErr != nil {
		t.Errorf("graceful shutdown exited with %v:\n%s", waitErr, p.logs)
	}

	n := 0
	acked.Range(func(_, _ any) bool { n++; return true })
	if n < 100 {
		t.Fatalf("only %d events acknowledged before the stop; the test proves nothing", n)
	}
	addr2 := freeAddr(t)
	startProcess(t, data, addr2)
	stored := storedIDs(t, data, "http://"+addr2)
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !stored[k.(string)] {
			missing++
		}
		return true
	})
	t.Logf("%d acknowledged, %d stored (the rest were in flight when the process stopped)", n, len(stored))
	if missing > 0 {
		t.Fatalf("%d acknowledged events lost after %v", missing, sig)
	}
}

func TestKillLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	runLoadThenStop(t, syscall.SIGKILL)
}

func TestGracefulShutdownFlushes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and stops the real binary")
	}
	runLoadThenStop(t, syscall.SIGTERM)
}

func TestCLIBadInput(t *testing.T) {
	bin := stewardBinary(t)
	dir := migratedDir(t)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("controller: {name: X}\ndatasets:\n  foo:\n    colour: blue\n"), 0o600)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"lint problems", []string{"registry", "lint", bad}, 1, "bad.yaml:4:"},
		{"lint missing file", []string{"registry", "lint", filepath.Join(dir, "none.yaml")}, 1, "none.yaml"},
		{"token without role", []string{"token", "create", "--name", "x", "--data", dir}, 2, "--role"},
		{"token unknown role", []string{"token", "create", "--name", "x", "--role", "king", "--data", dir}, 1, "unknown role"},
		{"revoke unknown", []string{"token", "revoke", "--data", dir, "nope"}, 1, "no token with id nope"},
		{"bad db", []string{"migrate", "--db", "mysql://x", "--data", dir}, 1, "steward:"},
		{"bad registry", []string{"serve", "--registry", bad, "--data", dir, "--addr", "127.0.0.1:0"}, 1, "problem"},
		{"checkpoint webhook not configured", []string{"serve", "--checkpoint-webhook", "auditors", "--data", dir, "--addr", "127.0.0.1:0"}, 1, `no webhook named "auditors"`},
		{"checkpoint e-mail not an address", []string{"serve", "--checkpoint-email", "Auditor <a@example.org>, b@example.org", "--data", dir, "--addr", "127.0.0.1:0"}, 1, "--checkpoint-email"},
		{"checkpoint every negative", []string{"serve", "--checkpoint-every", "-1h", "--data", dir, "--addr", "127.0.0.1:0"}, 1, "must not be negative"},
		{"mail without a command", []string{"mail"}, 2, "usage: steward mail list"},
		{"mail show without an id", []string{"mail", "show", "--data", dir}, 2, "usage: steward mail show ID|latest"},
		{"mail show unknown id", []string{"mail", "show", "99", "--data", dir}, 1, "no message 99 in the local mailbox"},
		{"mail show not an id", []string{"mail", "show", "../secret.key", "--data", dir}, 1, "is not a message id"},
		{"mail list with arguments", []string{"mail", "list", "--data", dir, "x"}, 2, "usage: steward mail list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != c.code || !strings.Contains(out.String(), c.want) {
				t.Fatalf("exit %d, output %q; want exit %d containing %q", code, out.String(), c.code, c.want)
			}
			if strings.Contains(out.String(), "goroutine ") {
				t.Fatalf("stack trace printed: %s", out.String())
			}
		})
	}
}

func TestTokenLifecycleCLI(t *testing.T) {
	bin := stewardBinary(t)
	dir := migratedDir(t)
	out, err := exec.Command(bin, "token", "create", "--role", "analyst", "--name", "dashboard", "--data", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.SplitN(string(out), "\n", 2)[0]
	if !strings.HasPrefix(secret, "stw_") {
		t.Fatalf("token output %q", out)
	}
	list, _ := exec.Command(bin, "token", "list", "--data", dir).Output()
	if !strings.Contains(string(list), "dashboard") || strings.Contains(string(list), secret) {
		t.Fatalf("list: %s", list)
	}
	id := strings.Fields(strings.Split(string(list), "\n")[1])[0]
	if out, err := exec.Command(bin, "token", "revoke", "--data", dir, id).CombinedOutput(); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	list, _ = exec.Command(bin, "token", "list", "--data", dir).Output()
	if !strings.Contains(string(list), "revoked") {
		t.Fatalf("list after revoke: %s", list)
	}
	// Nothing in the data directory holds the secret.
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the token secret", p)
			}
		}
		return nil
	})
}

// migratedDir is a data folder whose database `steward migrate` has
// created, as an administrator would before using the other commands.
func migratedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command(stewardBinary(t), "migrate", "--data", dir).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	return dir
}
