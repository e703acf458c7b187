package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeStep is one command of the README's walkthrough and, when the
// README shows it (a comment right below it), the output it should print.
type readmeStep struct {
	command, want string
}

// readmeWalkthrough returns the commands of the first sh block after
// "## Try it" in the README, read from the file itself so the test and
// the README cannot drift apart. A command ends at a line that neither
// ends in a backslash nor leaves a single quote open; a comment on the
// very next line that starts like output ({, a digit) is its expected
// output.
func readmeWalkthrough(t *testing.T) []readmeStep {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "## Try it")
	if i < 0 {
		t.Fatal(`README.md has no "## Try it" section`)
	}
	start := strings.Index(text[i:], "```sh\n")
	if start < 0 {
		t.Fatal("the Try it section has no sh block")
	}
	block := text[i+start+len("```sh\n"):]
	block = block[:strings.Index(block, "```")]
	var steps []readmeStep
	var cur strings.Builder
	justRan := false // the line before was the end of a command
	for _, line := range strings.Split(block, "\n") {
		if cur.Len() == 0 {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "#") {
				out := strings.TrimSpace(strings.TrimPrefix(trimmed, "#"))
				if justRan && out != "" && (out[0] == '{' || out[0] >= '0' && out[0] <= '9') {
					steps[len(steps)-1].want = out
				}
				justRan = false
				continue
			}
			if trimmed == "" {
				justRan = false
				continue
			}
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(line, "\\") || strings.Count(cur.String(), "'")%2 == 1 {
			continue
		}
		steps = append(steps, readmeStep{command: cur.String()})
		cur.Reset()
		justRan = true
	}
	if cur.Len() > 0 {
		t.Fatalf("the walkthrough ends inside a command: %q", cur.String())
	}
	return steps
}

var confirmRE = regexp.MustCompile(`http://\S+/confirm\?\S+`)

// TestReadmeWalkthrough follows "Try it" as a new user would: steward
// serving a fresh data folder, each command of the README run in order in
// one shell from the folder above it (with the built binary for `go run
// ./cmd/steward` and a free port for 8080), each output the README shows
// checked; then the browser steps the README describes: the confirmation
// link from the local mailbox confirms the request, and support signs in
// with the account the walkthrough added and finds it, mail and all.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walkthrough needs curl, as the README does")
	}
	steps := readmeWalkthrough(t)
	if len(steps) < 8 {
		t.Fatalf("found %d commands in the walkthrough: %+v", len(steps), steps)
	}
	work := t.TempDir()
	addr := freeAddr(t)
	startProcess(t, filepath.Join(work, "steward-data"), addr)
	bin := stewardBinary(t)

	var script strings.Builder
	// -e: a failing command fails the test. Not pipefail, which a person's
	// shell does not set either: "token create | head -1" may end token
	// create with SIGPIPE once head has its line.
	script.WriteString("set -eu\n")
	for i, s := range steps {
		cmd := strings.ReplaceAll(s.command, "go run ./cmd/steward", bin)
		cmd = strings.ReplaceAll(cmd, "127.0.0.1:8080", addr)
		if strings.Contains(cmd, " mail list") {
			// A person takes longer between asking and looking than a
			// script does; the outbox worker delivers within moments.
			script.WriteString("for _ in $(seq 200); do ls steward-data/mail/*.eml >/dev/null 2>&1 && break; sleep 0.05; done\n")
		}
		fmt.Fprintf(&script, "%s\necho '@@step %d done@@'\n", strings.TrimRight(cmd, "\n"), i)
	}
	const password = "correct horse battery staple"
	sh := exec.Command("bash", "-c", script.String())
	sh.Dir = work
	sh.Stdin = strings.NewReader(password + "\n") // what the person types at user add's prompt
	var stderr bytes.Buffer
	sh.Stderr = &stderr
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	outputs := regexp.MustCompile(`@@step \d+ done@@\n`).Split(string(out), -1)
	if len(outputs) != len(steps)+1 {
		t.Fatalf("ran %d of %d steps:\n%s", len(outputs)-1, len(steps), out)
	}
	var link string
	for i, s := range steps {
		got := strings.TrimSpace(outputs[i])
		if s.want != "" && got != s.want {
			t.Errorf("step %d printed %q; the README says %q\n%s", i, got, s.want, s.command)
		}
		switch {
		case strings.Contains(s.command, "/v1/datasets/interaction_data/events"):
			var page struct{ Events []map[string]any }
			if json.Unmarshal([]byte(got), &page) != nil || len(page.Events) != 1 {
				t.Errorf("the read printed %q, want the one event", got)
			}
		case strings.Contains(s.command, "mail list"):
			if !strings.Contains(got, "alex@example.org") || !strings.Contains(got, "Please confirm your access request") {
				t.Errorf("mail list printed %q", got)
			}
		case strings.Contains(s.command, "mail show"):
			link = got
		case strings.Contains(s.command, "user add"):
			if !strings.Contains(got, "account support@example.org added") {
				t.Errorf("user add printed %q", got)
			}
		}
	}
	if !confirmRE.MatchString(link) || strings.Contains(link, "\n") {
		t.Fatalf("the mailbox step printed %q, want the one confirmation link", link)
	}

	// "open that link in a browser and press the button": the page's form.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := hiddenFields(t, c, link)
	u, _ := url.Parse(link)
	resp, err := c.PostForm("http://"+addr+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.RawQuery, "notice=confirmed") {
		t.Fatalf("confirming: %d at %s", resp.StatusCode, resp.Request.URL)
	}

	// Support signs in with the password typed at step 7 and finds the
	// request, now confirmed, and its mail in the portal.
	v := hiddenFields(t, c, "http://"+addr+"/login")
	v.Set("login", "support@example.org")
	v.Set("password", password)
	resp, err = c.PostForm("http://"+addr+"/login", v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for path, want := range map[string]string{"/admin/requests": "alex@example.org", "/admin/mail": "Please confirm your access request"} {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Errorf("%s after signing in: %d, no %q", path, resp.StatusCode, want)
		}
	}
}

// The README's first screen gives one way to run and one to test.
func TestReadmeFirstScreen(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "```sh\n")
	first := text[start+len("```sh\n"):]
	first = first[:strings.Index(first, "```")]
	lines := strings.Split(strings.TrimSpace(first), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "go run ./cmd/steward serve ") || !strings.HasPrefix(lines[1], "go test -race ./... ") ||
		!strings.Contains(lines[0], "--addr") || strings.Index(text, "```sh") > strings.Index(text, "## Try it") {
		t.Fatalf("the first block is not one run line (naming --addr) and one test line:\n%s", first)
	}
}
