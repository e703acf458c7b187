package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// lintFailed means lint printed its problems and the exit code must be 1.
type lintFailed struct{ n int }

func (e lintFailed) Error() string { return fmt.Sprintf("%d problem(s)", e.n) }

const registryUsage = "usage: steward registry lint FILE | history | diff A B | import-glean --app-id APP FILE…"

func cmdRegistry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{registryUsage}
	}
	switch args[0] {
	case "lint":
		if len(args) != 2 {
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
	case "history":
		return registryHistory(ctx, args[1:], stdout)
	case "diff":
		return registryDiff(ctx, args[1:], stdout)
	case "import-glean":
		return registryImportGlean(ctx, args[1:], stdout, stderr)
	}
	return usageError{registryUsage}
}

// registryHistory lists every stored registry version.
func registryHistory(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, fs, err := flags("registry history", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"usage: steward registry history"}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	versions, err := st.ListRegistryVersions(ctx)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		fmt.Fprintln(stdout, "no registry version stored yet: steward serve stores the registry it starts with")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tAPPROVED BY\tNOTE")
	for _, v := range versions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.CreatedAt.Format(time.RFC3339), v.ApprovedBy, v.Note)
	}
	return tw.Flush()
}

// registryDiff prints the field-level difference between two versions.
func registryDiff(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward registry diff A B (two version numbers from steward registry history)"
	cfg, fs, err := flags("registry diff", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageError{use}
	}
	var nums [2]int64
	for i := range nums {
		n, err := strconv.ParseInt(fs.Arg(i), 10, 64)
		if err != nil || n < 1 {
			return usageError{fmt.Sprintf("%q is not a registry version number; %s", fs.Arg(i), use)}
		}
		nums[i] = n
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var regs [2]*registry.Registry
	for i, n := range nums {
		v, err := st.GetRegistryVersion(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			head, _ := st.RegistryHead(ctx)
			return fmt.Errorf("no registry version %d (the newest is %d)", n, head)
		}
		if err != nil {
			return err
		}
		reg, problems := registry.ParseWith(v.YAML, fmt.Sprintf("registry version %d", n), registry.Options{AllowExpired: true})
		if len(problems) > 0 {
			return &registry.ProblemsError{Source: fmt.Sprintf("registry version %d", n), Problems: problems}
		}
		regs[i] = reg
	}
	changes := registry.Diff(regs[0], regs[1])
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "versions %d and %d declare the same datasets and fields\n", nums[0], nums[1])
		return nil
	}
	for _, c := range changes {
		fmt.Fprintln(stdout, c.String())
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
	reg, err := registry.LoadFile(*regPath, time.Now())
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
