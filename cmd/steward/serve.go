package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"time"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/server"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// flags parses a sub-command's flags (all of steward's settings) with env
// and config file applied. Flag errors are one line, not a usage dump.
func flags(name string, args []string, extra func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("steward "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := config.FlagSet(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return nil, nil, err
		}
		return nil, nil, usageError{err.Error()}
	}
	if err := config.Load(fs, os.Getenv); err != nil {
		return nil, nil, usageError{err.Error()}
	}
	return cfg, fs, nil
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	var cpuProfile string
	cfg, fs, err := flags("serve", args, func(fs *flag.FlagSet) {
		fs.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to FILE (for steward-bench -profile)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Arg(0))}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	srv, err := server.New(ctx, cfg, server.Options{})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return srv.Serve(ctx, l)
}

// cmdMigrate applies pending migrations and says what it did, or with
// --status lists every migration and applies nothing.
func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	var status bool
	cfg, fs, err := flags("migrate", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&status, "status", false, "list every migration, applied or pending, and apply nothing")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("migrate takes no arguments, got %q", fs.Arg(0))}
	}
	// Only applying migrations may create the database; --status reports.
	st, err := backends.Open(ctx, cfg.DB, cfg.DataDir, !status)
	if err != nil {
		return err
	}
	defer st.Close()
	if status {
		ms, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		w := 0
		for _, m := range ms {
			w = max(w, len(m.ID()))
		}
		for _, m := range ms {
			switch {
			case m.Baseline:
				fmt.Fprintf(stdout, "%-*s  applied before versioning (recorded by the next steward migrate)\n", w, m.ID())
			case m.Applied:
				fmt.Fprintf(stdout, "%-*s  applied %s\n", w, m.ID(), m.AppliedAt.Format(time.RFC3339))
			default:
				fmt.Fprintf(stdout, "%-*s  pending\n", w, m.ID())
			}
		}
		return nil
	}
	var done []store.Migration
	err = newProgress("applying migrations", -1).During(func() (err error) {
		done, err = st.Migrate(ctx)
		return err
	})
	if err != nil {
		return err
	}
	for _, m := range done {
		if m.Baseline {
			fmt.Fprintf(stdout, "recorded %s as applied: the database predates versioned migrations (%s)\n", m.ID(), st.Backend())
		} else {
			fmt.Fprintf(stdout, "applied %s (%s)\n", m.ID(), st.Backend())
		}
	}
	if len(done) == 0 {
		ms, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "schema is up to date at version %d (%s)\n", ms[len(ms)-1].Version, st.Backend())
	}
	return nil
}

// openStore opens the configured store as it is: only serve and migrate
// change the schema.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	return app.OpenStore(ctx, cfg, false)
}
