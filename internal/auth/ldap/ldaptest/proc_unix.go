//go:build unix

package ldaptest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts slapd in a process group of its own, so stopping it
// cannot hit the test binary and catches anything slapd started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate signals slapd's process group: SIGTERM for a clean shutdown,
// SIGKILL when it does not go.
func terminate(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
