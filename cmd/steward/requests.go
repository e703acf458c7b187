package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/rights"
)

// cmdRequests works with data subject requests from the command line.
func cmdRequests(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward requests receipt ID"
	if len(args) < 1 || args[0] != "receipt" {
		return usageError{use}
	}
	cfg, fs, err := flags("requests receipt", args[1:], nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{use}
	}
	srv, err := app.New(ctx, cfg, app.Options{Clock: clock.Real{}, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer srv.Close()
	rc, stored, err := srv.Rights.VerifiedReceipt(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	pretty, _ := json.MarshalIndent(json.RawMessage(stored), "", "  ")
	fmt.Fprintf(stdout, "%s\n", pretty)
	fmt.Fprintf(stdout, "signature valid: request %s, %d step(s), completed %s, signed by this server's key\n",
		rc.RequestID, len(rc.Steps), rc.CompletedAt.Format(time.RFC3339))
	return nil
}

// cmdConnectors checks every connector's configuration and reach.
func cmdConnectors(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward connectors check [--rights FILE]"
	if len(args) < 1 || args[0] != "check" {
		return usageError{use}
	}
	cfg, fs, err := flags("connectors check", args[1:], nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{use}
	}
	srv, err := app.New(ctx, cfg, app.Options{Clock: clock.Real{}, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer srv.Close()
	var failed []error
	for _, c := range srv.Rights.Connectors {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := c.Check(cctx)
		cancel()
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", c.Name(), err)
			failed = append(failed, err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s\n", c.Name())
		if l, ok := c.(rights.Labelled); !ok || l.Label() == "" {
			fmt.Fprintf(stdout, "note: %s has no label: status pages and receipts name it %q to the person; give it label: in its settings\n", c.Name(), c.Name())
		}
	}
	if srv.Rights.Identity == nil {
		fmt.Fprintln(stdout, "note: no identity connector is configured; requests are executed without an account check")
	}
	if len(failed) > 0 {
		return errors.New(fmt.Sprint(len(failed), " connector(s) failed the check"))
	}
	return nil
}

// quietLogger keeps one-shot commands' output to their answer and errors.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
