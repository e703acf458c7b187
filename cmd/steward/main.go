// Command steward is the steward server and its administration commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `steward — collect usage data the way a careful privacy programme demands

usage:
  steward serve [flags]                           run the server (see steward serve -h)
  steward migrate [--status] [flags]              apply pending database migrations (--status: list them) and exit
  steward registry lint FILE                      check a data registry; one line per problem
  steward registry history                        list the stored registry versions
  steward registry diff A B                       what changed between two registry versions
  steward registry import-glean --app-id APP F…   Glean metrics.yaml/pings.yaml as a registry proposal
  steward policy lint [--registry F] FILE         check a read policy against the registry
  steward review propose FILE --as EMAIL          propose a registry file for data collection review
  steward review list|show ID|doc ID              list proposals, show one, print its review request (Markdown)
  steward token create --role ROLE --name NAME    create an API token (printed once)
  steward token list                              list API tokens (never their secrets)
  steward token revoke ID                         revoke an API token
  steward user add --email E --role ROLE         add a person's account (password from a prompt or stdin)
  steward user list                               list accounts
  steward user disable EMAIL                      disable an account and end its sessions
  steward user unlock EMAIL                       end a sign-in lockout after too many failed attempts
  steward log verify                              check the access log: its chain from the first entry, its subject
                                                  index and its signed checkpoints (--checkpoint FILE: a witness's copy)
  steward log checkpoints                         list the signed checkpoints of the access log's head
  steward log head                                print the latest entry's seq and hash (to anchor elsewhere)
  steward incident register [--format json|csv]  the breach register (Art. 33(5)): every incident, notified or not
                         [--state S] [--source S] [--out FILE]
  steward mail list                               list the e-mail kept in the local mailbox (no SMTP server configured)
  steward mail show ID|latest [--raw]             print one message of the local mailbox
  steward requests receipt ID                     print and verify an erasure receipt
  steward records export [--format json|csv|md]   the records of processing (GDPR Art. 30), from the registry in force
                         [--lang en|de] [--out FILE]
  steward receipt verify FILE --public-key KEY    check a downloaded erasure receipt offline
  steward connectors check [--rights FILE]        test every connector's settings and reach
  steward version                                 print the module version and VCS revision this binary was built from
`

// stdin is where `steward user add` reads a piped password.
var stdin io.Reader = os.Stdin

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout)
	case "registry":
		err = cmdRegistry(ctx, args[1:], stdout, stderr)
	case "review":
		err = cmdReview(ctx, args[1:], stdout)
	case "policy":
		err = cmdPolicy(args[1:], stdout)
	case "requests":
		err = cmdRequests(ctx, args[1:], stdout)
	case "mail":
		err = cmdMail(ctx, args[1:], stdout)
	case "receipt":
		err = cmdReceipt(args[1:], stdout)
	case "connectors":
		err = cmdConnectors(ctx, args[1:], stdout)
	case "incident":
		err = cmdIncident(ctx, args[1:], stdout)
	case "log":
		err = cmdLog(ctx, args[1:], stdout)
	case "records":
		err = cmdRecords(ctx, args[1:], stdout)
	case "token":
		err = cmdToken(ctx, args[1:], stdout)
	case "user":
		err = cmdUser(ctx, args[1:], stdin, stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "steward", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageError{fmt.Sprintf("unknown command %q; run steward help", args[0])}
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var lint lintFailed
	if errors.As(err, &lint) {
		return 1 // the problems are already printed, one per line
	}
	fmt.Fprintln(stderr, "steward:", err)
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
