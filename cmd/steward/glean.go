package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/review"
)

const importGleanUsage = "usage: steward registry import-glean --app-id APP [--app-version N] [--base FILE] [--out FILE] [--propose --as EMAIL [--submit]] metrics.yaml… [pings.yaml…]"

// registryImportGlean turns Glean's metrics.yaml and pings.yaml into a
// registry proposal: printed (or written to --out) to review and propose,
// or proposed at once with --propose. Warnings go to stderr.
func registryImportGlean(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opt glean.Options
	var basePath, out, as string
	var propose, submit bool
	cfg, fs, err := flags("registry import-glean", args, func(fs *flag.FlagSet) {
		fs.StringVar(&opt.AppID, "app-id", "", "the application id the Glean SDK submits pings under (required)")
		fs.IntVar(&opt.AppVersion, "app-version", 0, "the app's major version, to resolve metrics that expire in a version")
		fs.StringVar(&basePath, "base", "", "the registry file to add the datasets to (default with --propose: the registry in force)")
		fs.StringVar(&out, "out", "", "write the proposal file here instead of standard output")
		fs.BoolVar(&propose, "propose", false, "propose it for data collection review at once")
		fs.StringVar(&as, "as", "", "with --propose: the proposer's account e-mail")
		fs.BoolVar(&submit, "submit", false, "with --propose: submit it for review at once")
		fs.StringVar(&opt.Purpose, "purpose", "", "the new datasets' purpose (default product_improvement)")
		fs.StringVar(&opt.LawfulBasis, "lawful-basis", "", "the new datasets' lawful basis (default legitimate_interest)")
		fs.StringVar(&opt.Retention, "retention", "", "the new datasets' retention (default 120d)")
	})
	if err != nil {
		return err
	}
	if opt.AppID == "" || fs.NArg() == 0 {
		return usageError{importGleanUsage}
	}
	if propose && as == "" {
		return usageError{"steward registry import-glean --propose: --as EMAIL names the proposer"}
	}
	if !propose && basePath == "" {
		return usageError{"steward registry import-glean: give --base FILE (the registry to add the datasets to), or --propose to add them to the registry in force"}
	}
	var files []glean.File
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("cannot read %s: %v", name, errors.Unwrap(err))
		}
		files = append(files, glean.File{Name: name, Data: b})
	}
	res, err := glean.Import(files, opt)
	var ie *glean.Error
	if errors.As(err, &ie) {
		for _, p := range ie.Problems {
			fmt.Fprintln(stdout, p.String())
		}
		return lintFailed{len(ie.Problems)}
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w.String())
	}
	var base []byte
	if basePath != "" {
		if base, err = os.ReadFile(basePath); err != nil {
			return fmt.Errorf("cannot read %s: %v", basePath, errors.Unwrap(err))
		}
	}
	if !propose {
		data, err := glean.Proposal(base, res, opt.AppID, clock.Real{}.Now())
		if err != nil {
			return err
		}
		if out == "" {
			_, err = stdout.Write(data)
			return err
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %d metrics in %d datasets; propose it with steward review propose --as EMAIL %s\n", out, res.Metrics, len(res.Names), out)
		return nil
	}
	a, err := app.New(ctx, cfg, app.Options{Clock: clock.Real{}, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer a.Close()
	if base == nil {
		v := a.Registry.Version()
		if v == 0 {
			return errors.New("no registry is approved yet: give --base FILE")
		}
		rec, err := a.Store.GetRegistryVersion(ctx, v)
		if err != nil {
			return err
		}
		base = rec.YAML
	}
	data, err := glean.Proposal(base, res, opt.AppID, clock.Real{}.Now())
	if err != nil {
		return err
	}
	if out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return err
		}
	}
	var warnings []string
	for _, w := range res.Warnings {
		warnings = append(warnings, w.String())
	}
	return reviewPropose(ctx, a, review.Input{YAML: data, Name: "glean import", Warnings: warnings}, as, submit, stdout)
}
