package main

import (
	"fmt"
	"io"

	"github.com/steward-privacy/steward/internal/registry"
)

// lintFailed means lint printed its problems and the exit code must be 1.
type lintFailed struct{ n int }

func (e lintFailed) Error() string { return fmt.Sprintf("%d problem(s)", e.n) }

func cmdRegistry(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "lint" {
		return usageError{"usage: steward registry lint FILE"}
	}
	_, problems := registry.Load(args[1])
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if len(problems) > 0 {
		return lintFailed{len(problems)}
	}
	return nil
}
