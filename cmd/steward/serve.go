package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/server"
	"github.com/steward-privacy/steward/internal/store"
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

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, _, err := flags("migrate", args, nil)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", st.Backend())
	return nil
}

// openStore opens the configured store as it is: only serve and migrate
// change the schema.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	return app.OpenStore(ctx, cfg, false)
}
