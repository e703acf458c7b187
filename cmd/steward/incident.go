package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os/user"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
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
		fs.StringVar(&state, "state", "", "only incidents in this state (or open: every one still being worked)")
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
	states, ok := incident.FilterStates(state)
	if !ok {
		return usageError{fmt.Sprintf("--state %q: not a state of an incident, nor open", state)}
	}
	if !incident.FilterSource(source) {
		return usageError{fmt.Sprintf("--source %q: use policy, integrity, unusual or manual", source)}
	}
	q := incident.RegisterQuery{States: states, Source: source}
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
	entry := incident.ReadEntry(&store.AccessEntry{At: a.Clock.Now().UTC(), Actor: who, AuthMethod: "cli"},
		"incident register ("+format+")", len(reg.Incidents))
	if err := a.Access.Append(ctx, entry); err != nil {
		return fmt.Errorf("recording the read in the access log: %w", err)
	}
	if out == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	return writeOut(out, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}
