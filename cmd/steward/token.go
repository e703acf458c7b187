package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store"
)

func cmdToken(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: steward token create|list|revoke"}
	}
	var role, name string
	var ttl time.Duration
	cfg, fs, err := flags("token "+args[0], args[1:], func(fs *flag.FlagSet) {
		if args[0] == "create" {
			fs.StringVar(&role, "role", "", "role of the token")
			fs.StringVar(&name, "name", "", "who or what uses the token")
			fs.DurationVar(&ttl, "ttl", 0, "lifetime (e.g. 2160h); 0 = until revoked")
		}
	})
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	switch args[0] {
	case "create":
		if role == "" || name == "" {
			return usageError{"token create needs --role and --name"}
		}
		secret, t, err := auth.NewToken(ctx, st, name, auth.Role(role), ttl, now)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stdout, "# token %s (%s, role %s): shown once, only its hash is stored\n", t.ID, t.Name, t.Role)
	case "list":
		tokens, err := st.ListTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tLAST USED\tSTATE")
		for _, t := range tokens {
			state := "active"
			switch {
			case !t.RevokedAt.IsZero():
				state = "revoked"
			case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, day(t.CreatedAt), day(t.ExpiresAt), day(t.LastUsedAt), state)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usageError{"usage: steward token revoke ID"}
		}
		if err := st.RevokeToken(ctx, fs.Arg(0), now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no token with id %s", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", fs.Arg(0))
	default:
		return usageError{fmt.Sprintf("unknown token command %q: use create, list or revoke", args[0])}
	}
	return nil
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateTime)
}
