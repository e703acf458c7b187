//go:build !unix

package ldaptest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
