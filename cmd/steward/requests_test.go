package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

// TestKillDuringExecution kills steward while an erasure is half done (the
// app's webhook is answering the deactivation), restarts it, and checks
// that the request then finishes exactly once: every step done once, one
// "done" transition, one "done" e-mail.
func TestKillDuringExecution(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	var mu sync.Mutex
	calls := map[string]int{}
	arrived := make(chan struct{})
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		phase := "other"
		for _, p := range []string{"deactivate", "purge"} {
			if strings.Contains(string(body), `"phase":"`+p+`"`) {
				phase = p
			}
		}
		mu.Lock()
		calls[phase]++
		first := phase == "deactivate" && calls[phase] == 1
		mu.Unlock()
		if first {
			close(arrived)
			<-release // steward is killed while this call is in flight
		}
		fmt.Fprintf(w, `{"count":1,"detail":"%s done"}`, phase)
	}))
	defer hook.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	dir := migratedDir(t)
	rightsFile := filepath.Join(dir, "rights.yaml")
	os.WriteFile(rightsFile, []byte("requests:\n  grace: 0s\nconnectors:\n  - {name: app, kind: webhook, url: "+hook.URL+", secret: kill-test-secret-0123456789}\n"), 0o600)
	add := exec.Command(stewardBinary(t), "user", "add", "--email", "desk@example.org", "--role", "support", "--data", dir)
	add.Stdin = strings.NewReader("desk password 1\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}

	// A confirmed erasure, taken by support.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	req := store.Request{ID: "r-kiwitestkiwitest", StatusTokenHash: []byte("x"), Channel: "web", Type: "erasure", Status: "in_progress",
		Email: "erin@example.org", SubjectKey: "k", Law: "gdpr", DueAt: now.Add(720 * time.Hour), EmailConfirmedAt: now,
		CreatedAt: now, UpdatedAt: now, StatusAt: now, Version: 1}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateRequest(ctx, req); err != nil {
			return err
		}
		return tx.AppendRequestEvent(ctx, store.RequestEvent{RequestID: req.ID, At: now, Actor: "web", To: "in_progress"})
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	addr := freeAddr(t)
	p := startProcess(t, dir, addr, "--rights", rightsFile)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	// Support signs in at /login and presses "execute" in the portal.
	loginForm := hiddenFields(t, c, "http://"+addr+"/login")
	loginForm.Set("login", "desk@example.org")
	loginForm.Set("password", "desk password 1")
	resp, err := c.PostForm("http://"+addr+"/login", loginForm)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form := url.Values{"csrf_token": {hiddenFields(t, c, "http://"+addr+"/account").Get("csrf_token")}, "version": {"1"}}
	post, _ := http.NewRequest("POST", "http://"+addr+"/admin/requests/"+req.ID+"/execute", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	go func() {
		if resp, err := c.Do(post); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatalf("execution never reached the app:\n%s", p.logs)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	close(release)

	// Restart: the scheduler resumes at start.
	startProcess(t, dir, freeAddr(t), "--rights", rightsFile)
	deadline := time.Now().Add(30 * time.Second)
	var r store.Request
	for time.Now().Before(deadline) {
		st, err := sqlite.Open(ctx, filepath.Join(dir, "steward.db"))
		if err == nil {
			r, _ = st.GetRequest(ctx, req.ID)
			st.Close()
		}
		if r.Status == "done" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Status != "done" || r.Receipt == "" {
		t.Fatalf("after restart the request is %q", r.Status)
	}
	st, _ = sqlite.Open(ctx, filepath.Join(dir, "steward.db"))
	defer st.Close()
	steps, _ := st.RequestSteps(ctx, req.ID)
	hist, _ := st.RequestHistory(ctx, req.ID)
	mails, _ := st.ListOutbox(ctx, "request:"+req.ID+":done", 10)
	doneTransitions := 0
	for _, h := range hist {
		if h.To == "done" && h.From != "done" {
			doneTransitions++
		}
	}
	var summary []string
	for _, s := range steps {
		summary = append(summary, fmt.Sprintf("%s/%s:%s", s.Connector, s.Phase, s.Status))
	}
	mu.Lock()
	defer mu.Unlock()
	if doneTransitions != 1 || len(mails) != 1 || calls["purge"] != 1 || calls["deactivate"] != 2 ||
		strings.Join(summary, " ") != "*/requested:done steward-events/deactivate:done app/deactivate:done steward-events/purge:done app/purge:done" {
		t.Fatalf("done %d times, %d done mails, calls %v, steps %v", doneTransitions, len(mails), calls, summary)
	}
}

// hiddenFields fetches a page and returns its hidden form fields.
func hiddenFields(t *testing.T, c *http.Client, u string) url.Values {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`).FindAllStringSubmatch(string(raw), -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return v
}
