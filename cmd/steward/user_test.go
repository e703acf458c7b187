package main

import (
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// TestUserUnlock: five wrong passwords lock an account out of the sign-in
// form; `steward user unlock` lets the right one in again at once.
func TestUserUnlock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	dir := migratedDir(t)
	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(stewardBinary(t), append([]string{args[0], args[1], "--data", dir}, args[2:]...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
		return string(out)
	}
	const password = "a long enough password"
	cli(password+"\n", "user", "add", "--email", "sam@example.org", "--role", "support")
	p := startProcess(t, dir, freeAddr(t))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func(pw string) int {
		t.Helper()
		resp, err := c.PostForm("http://"+p.addr+"/login", url.Values{"login": {"Sam@Example.org"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 5 {
		if st := login("wrong wrong wrong"); st != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", st)
		}
	}
	if st := login(password); st != http.StatusTooManyRequests {
		t.Fatalf("the right password after five wrong ones: %d, want 429", st)
	}
	if out := cli("", "user", "unlock", "sam@example.org"); !strings.Contains(out, "sam@example.org was locked out after 5 failed sign-ins; unlocked") {
		t.Fatalf("unlock: %s", out)
	}
	if st := login(password); st != http.StatusSeeOther {
		t.Fatalf("after unlock: %d, want 303", st)
	}
	if out := cli("", "user", "unlock", "sam@example.org"); !strings.Contains(out, "no recent failed sign-ins") {
		t.Fatalf("unlock again: %s", out)
	}
	if out := cli("", "user", "unlock", "nobody@example.org"); !strings.Contains(out, "steward has no account for nobody@example.org") {
		t.Fatalf("unlock of an unknown login: %s", out)
	}
	out, err := exec.Command(stewardBinary(t), "user", "unlock", "--data", dir).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "usage: steward user unlock EMAIL") {
		t.Fatalf("unlock without a login: %v %s", err, out)
	}
}
