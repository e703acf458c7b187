package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/signin"
	"github.com/steward-privacy/steward/internal/store"
)

// cmdUser manages steward's own accounts. The password is read from a
// prompt (or the first line of stdin when it is not a terminal), never
// from a flag, which every local user could read from the process list.
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: steward user add|list|disable|unlock"}
	}
	var email, role string
	cfg, fs, err := flags("user "+args[0], args[1:], func(fs *flag.FlagSet) {
		if args[0] == "add" {
			fs.StringVar(&email, "email", "", "the person's e-mail; they sign in with it")
			fs.StringVar(&role, "role", "", "role of the account (docs/roles.md)")
		}
	})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	var u store.User
	switch args[0] {
	case "add":
		if email == "" || role == "" {
			return usageError{"user add needs --email and --role; the password is asked for"}
		}
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email {
			return fmt.Errorf("--email %q is not an e-mail address", email)
		}
		if !slices.Contains(auth.PersonRoles(), auth.Role(role)) {
			return fmt.Errorf("unknown role %q for a person (roles: %s)", role, roleNames(auth.PersonRoles()))
		}
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, auth.DefaultArgon2)
		if err != nil {
			return err
		}
		var id [8]byte
		_, _ = rand.Read(id[:])
		u = store.User{ID: hex.EncodeToString(id[:]), Email: strings.ToLower(email), Role: role, PasswordHash: hash, CreatedAt: now}
	case "list", "disable", "unlock":
		if args[0] != "list" && fs.NArg() != 1 {
			return usageError{"usage: steward user " + args[0] + " EMAIL"}
		}
	default:
		return usageError{fmt.Sprintf("unknown user command %q: use add, list, disable or unlock", args[0])}
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "add":
		if err := st.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("an account for %s already exists", u.Email)
			}
			return err
		}
		fmt.Fprintf(stdout, "account %s added with role %s; sign in at /login\n", u.Email, u.Role)
	case "list":
		users, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "E-MAIL\tROLE\tCREATED\tSTATE")
		for _, u := range users {
			state := "active"
			if !u.DisabledAt.IsZero() {
				state = "disabled " + day(u.DisabledAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Role, day(u.CreatedAt), state)
		}
		return tw.Flush()
	case "disable":
		if err := st.DisableUser(ctx, fs.Arg(0), now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no account for %s", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintf(stdout, "account %s disabled; its sessions have ended\n", fs.Arg(0))
	case "unlock":
		return unlockUser(ctx, cfg, st, fs.Arg(0), now, stdout)
	}
	return nil
}

// unlockUser ends a sign-in lockout: it forgets the failed sign-ins
// counted against the login (steward's own account or a directory login),
// so the person may try again at once instead of waiting out the window.
func unlockUser(ctx context.Context, cfg *config.Config, st store.Store, login string, now time.Time, stdout io.Writer) error {
	login = strings.TrimSpace(login)
	if login == "" || !utf8.ValidString(login) {
		return usageError{"usage: steward user unlock EMAIL (or the directory login)"}
	}
	k, err := app.LoadKey(ctx, cfg, st, false, quietLogger())
	if err != nil {
		return err
	}
	key := signin.AccountKey(k, login)
	n, err := st.LoginFailures(ctx, key, now.Add(-signin.Window))
	if err != nil {
		return err
	}
	if err := st.ClearLoginFailures(ctx, key); err != nil {
		return err
	}
	switch {
	case n >= signin.MaxPerAccount:
		fmt.Fprintf(stdout, "%s was locked out after %d failed sign-ins; unlocked, it may sign in again now\n", login, n)
	case n > 0:
		fmt.Fprintf(stdout, "%s was not locked out (%d failed sign-in(s) of %d allowed in %d minutes); those are forgotten\n", login, n, signin.MaxPerAccount, int(signin.Window.Minutes()))
	default:
		fmt.Fprintf(stdout, "%s has no recent failed sign-ins; nothing to unlock\n", login)
	}
	if _, err := st.UserByEmail(ctx, login); errors.Is(err, store.ErrNotFound) && cfg.LDAP == nil {
		fmt.Fprintf(stdout, "note: steward has no account for %s and no directory is configured\n", login)
	}
	return nil
}

// readPassword asks twice on a terminal; from a pipe it takes one line.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stdout, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given: type it at the prompt or pipe it on stdin")
	}
	return line, nil
}

func roleNames(roles []auth.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
