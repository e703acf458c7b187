package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// cmdIncident exports the breach register (Art. 33(5)). The export is a
// read of incidents, so it leaves an access-log entry like the API's.
func cmdIncident(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward incident register [--format json|csv] [--state STATE] [--source SOURCE] [--out FILE]"
	if len(args) == 0 || args[0] != "register" {
		return usageError{use}
	}
	var format, state, source, out string
	cfg, fs, err := flags("incident register", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", incident.RegisterJSON, "json or csv")
		fs.StringVar(&state, "state", "", "only incidents in this state")
		fs.StringVar(&source, "source", "", "only incidents from this source (policy, integrity, unusual, manual)")
		fs.StringVar(&out, "out", "", "write to FILE instead of standard output")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{use}
	}
	if format != incident.RegisterJSON && format != incident.RegisterCSV {
		return usageError{fmt.Sprintf("--format %q: use json or csv", format)}
	}
	q := incident.RegisterQuery{Source: source}
	if state != "" {
		if !incident.Lifecycle.Has(workflow.State(state)) {
			return usageError{fmt.Sprintf("--state %q: not a state of an incident", state)}
		}
		q.States = []string{state}
	}
	a, err := app.New(ctx, cfg, app.Options{Clock: clock.Real{}, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer a.Close()
	reg, err := a.Incidents.Register(ctx, q)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reg.Write(&buf, format); err != nil {
		return err
	}
	who := "operator"
	if u, err := user.Current(); err == nil {
		who = "operator " + u.Username
	}
	entry := &store.AccessEntry{At: a.Clock.Now().UTC(), Actor: who, AuthMethod: "cli", Purpose: "incident_response",
		Dataset: incident.Dataset, Query: "incident register (" + format + ")", Records: int64(len(reg.Incidents)),
		Decision: accesslog.Allowed, Reason: "steward incident register"}
	if err := a.Access.Append(ctx, entry); err != nil {
		return fmt.Errorf("recording the read in the access log: %w", err)
	}
	if out == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	// Written beside the target and renamed, so a failed export leaves no
	// half a file where the previous one was.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".register-*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("--out: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
