package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steward-privacy/steward/internal/notify"
)

const mailUsage = "usage: steward mail list | show ID|latest [--raw]"

// cmdMail reads the local mailbox: the e-mail a steward without an SMTP
// server kept instead of sending (docs/notify.md). It reads files only,
// so it works while steward serves.
func cmdMail(_ context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "show") {
		return usageError{mailUsage}
	}
	var raw bool
	// The id may come before the flags too (steward mail show 3 --raw).
	rest, ref := args[1:], ""
	if args[0] == "show" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		ref, rest = rest[0], rest[1:]
	}
	cfg, fs, err := flags("mail "+args[0], rest, func(fs *flag.FlagSet) {
		if args[0] == "show" {
			fs.BoolVar(&raw, "raw", false, "print the message file as stored (RFC 5322, quoted-printable)")
		}
	})
	if err != nil {
		return err
	}
	dir := notify.MailboxDir(cfg.DataDir)
	if cfg.SMTP.Host != "" {
		fmt.Fprintf(stdout, "note: --smtp-host is set, so steward sends mail to %s and keeps no new mail here\n", cfg.SMTP.Host)
	}
	switch args[0] {
	case "list":
		if fs.NArg() != 0 {
			return usageError{mailUsage}
		}
		list, err := notify.ListMailbox(dir)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintf(stdout, "the local mailbox %s is empty\n", dir)
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tDATE\tTO\tSUBJECT")
		for _, m := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.ID, m.Date.UTC().Format(time.RFC3339), m.To, m.Subject)
		}
		return tw.Flush()
	default:
		if ref == "" && fs.NArg() == 1 {
			ref = fs.Arg(0)
		} else if ref == "" || fs.NArg() != 0 {
			return usageError{"usage: steward mail show ID|latest [--raw] (ID from steward mail list)"}
		}
		m, err := notify.ReadMailbox(dir, ref)
		if errors.Is(err, notify.ErrNoMail) {
			return fmt.Errorf("no message %s in the local mailbox %s (steward mail list shows what it holds)", ref, dir)
		}
		if err != nil {
			return err
		}
		if raw {
			_, err := stdout.Write(m.Raw)
			return err
		}
		fmt.Fprintf(stdout, "From: %s\nTo: %s\nDate: %s\nSubject: %s\n\n%s", m.From, m.To, m.Date.UTC().Format(time.RFC3339), m.Subject, m.Body)
		return nil
	}
}
