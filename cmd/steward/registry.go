package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/policy"
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

// cmdPolicy lints a read policy against the registry it governs (the
// built-in one unless --registry names another).
func cmdPolicy(args []string, stdout io.Writer) error {
	const use = "usage: steward policy lint [--registry FILE] POLICY"
	if len(args) == 0 || args[0] != "lint" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("steward policy lint", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	regPath := fs.String("registry", "", "registry the policy governs (default: the built-in example)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
		return usageError{use}
	}
	reg, err := app.LoadRegistry(*regPath, time.Now())
	if err != nil {
		return err
	}
	_, problems := policy.Load(fs.Arg(0), reg)
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if len(problems) > 0 {
		return lintFailed{len(problems)}
	}
	return nil
}
