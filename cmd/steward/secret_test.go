package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runBinary runs the built steward with env added to this process's. A
// command that should have refused to start is stopped after a while.
func runBinary(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, stewardBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ctx.Err() != nil {
		t.Errorf("%q was still running after 20s", args)
		return -1, out.String(), errOut.String()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestSecretOnlyFromFileOrEnvironment: the hashing key on a command line
// would show in ps to every local user, so --secret is refused with one
// line; --secret-file and STEWARD_SECRET give it instead.
func TestSecretOnlyFromFileOrEnvironment(t *testing.T) {
	key := strings.Repeat("ab", 32)
	dir := migratedDir(t)
	keyFile := filepath.Join(t.TempDir(), "hashing.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--secret", key},
		{"serve", "--secret=" + key, "--data", dir, "--addr", "127.0.0.1:0"},
		{"connectors", "check", "--data", dir, "--secret", key},
	} {
		code, out, errOut := runBinary(t, nil, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--secret-file") ||
			!strings.Contains(errOut, "STEWARD_SECRET") || strings.Contains(errOut, key[:16]) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line naming --secret-file and STEWARD_SECRET, without the key",
				args, code, out, errOut)
		}
	}

	// From a file, then from the environment: the same key.
	if code, out, errOut := runBinary(t, nil, "connectors", "check", "--data", dir, "--secret-file", keyFile); code != 0 || !strings.Contains(out, "ok   steward-events") {
		t.Fatalf("--secret-file: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runBinary(t, []string{"STEWARD_SECRET=" + key}, "connectors", "check", "--data", dir); code != 0 || !strings.Contains(out, "ok   steward-events") {
		t.Fatalf("STEWARD_SECRET: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runBinary(t, []string{"STEWARD_SECRET_FILE=" + keyFile}, "connectors", "check", "--data", dir); code != 0 {
		t.Fatalf("STEWARD_SECRET_FILE: %d %q %q", code, out, errOut)
	}

	// A key file others may read, or none at the path, is one line and
	// exit 1; nothing is created at the path given, even by serve.
	loose := filepath.Join(t.TempDir(), "loose.key")
	os.WriteFile(loose, []byte(key+"\n"), 0o644)
	missing := filepath.Join(t.TempDir(), "missing.key")
	for file, want := range map[string]string{loose: "chmod 600 " + loose, missing: "no hashing key at " + missing} {
		code, _, errOut := runBinary(t, nil, "connectors", "check", "--data", dir, "--secret-file", file)
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) || strings.Contains(errOut, key[:16]) {
			t.Errorf("--secret-file %s: exit %d, stderr %q; want exit 1 and one line with %q", file, code, errOut, want)
		}
	}
	if code, _, _ := runBinary(t, nil, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--secret-file", missing); code != 1 {
		t.Errorf("serve with a missing --secret-file: exit %d", code)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("the missing --secret-file was created")
	}

	// serve runs with the key from a file, and its command line shows
	// only the path.
	p := startProcess(t, dir, freeAddr(t), "--secret-file", keyFile)
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "cmdline"))
	if err == nil && (bytes.Contains(cmdline, []byte(key[:16])) || !bytes.Contains(cmdline, []byte(keyFile))) {
		t.Errorf("serve's command line: %q", cmdline)
	}
}
