package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
)

const reviewUsage = "usage: steward review propose FILE --as EMAIL [--title T] [--link URL]… [--submit] | list [--state S] | show ID | doc ID"

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func cmdReview(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{reviewUsage}
	}
	var as, title, state string
	var links repeated
	var submit bool
	cfg, fs, err := flags("review "+args[0], args[1:], func(fs *flag.FlagSet) {
		switch args[0] {
		case "propose":
			fs.StringVar(&as, "as", "", "the proposer: the e-mail of an account that may propose (analyst, data_steward, product_owner, …)")
			fs.StringVar(&title, "title", "", "the proposal's title (default: from the file's review: section or its changes)")
			fs.Var(&links, "link", "a ticket or document about the change (repeatable)")
			fs.BoolVar(&submit, "submit", false, "submit it for review at once (every proposer question must be answered in the file's review: section)")
		case "list":
			fs.StringVar(&state, "state", "", "only proposals in this state (draft, in_review, approved, rejected, escalated, decided, withdrawn)")
		}
	})
	if err != nil {
		return err
	}
	switch args[0] {
	case "propose", "list", "show", "doc":
	default:
		return usageError{reviewUsage}
	}
	want := map[string]int{"propose": 1, "list": 0, "show": 1, "doc": 1}[args[0]]
	if fs.NArg() != want {
		return usageError{reviewUsage}
	}
	var id int64
	if args[0] == "show" || args[0] == "doc" {
		if id, err = strconv.ParseInt(fs.Arg(0), 10, 64); err != nil || id < 1 {
			return usageError{fmt.Sprintf("%q is not a proposal number; steward review list shows them", fs.Arg(0))}
		}
	}
	if args[0] == "propose" && as == "" {
		return usageError{"steward review propose: --as EMAIL names the proposer (an account from steward user list)"}
	}
	var data []byte
	if args[0] == "propose" {
		if data, err = os.ReadFile(fs.Arg(0)); err != nil {
			return fmt.Errorf("cannot read %s: %v", fs.Arg(0), errors.Unwrap(err))
		}
	}
	a, err := app.New(ctx, cfg, app.Options{Clock: clock.Real{}, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "propose":
		return reviewPropose(ctx, a, review.Input{YAML: data, Name: fs.Arg(0), Title: title, Links: links}, as, submit, stdout)
	case "list":
		return reviewList(ctx, a, state, stdout)
	case "show":
		return reviewShow(ctx, a, id, stdout)
	}
	v, err := a.Reviews.Get(ctx, id)
	if err != nil {
		return noProposal(err, id)
	}
	md, err := a.Reviews.Document(v).Markdown()
	if err != nil {
		return err
	}
	_, err = stdout.Write(md)
	return err
}

func noProposal(err error, id int64) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no proposal %d; steward review list shows them", id)
	}
	return err
}

func reviewPropose(ctx context.Context, a *app.App, in review.Input, as string, submit bool, stdout io.Writer) error {
	u, err := a.Store.UserByEmail(ctx, as)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--as %s: no such account (steward user list shows them)", as)
	}
	if err != nil {
		return err
	}
	if !u.DisabledAt.IsZero() {
		return fmt.Errorf("--as %s: the account is disabled", as)
	}
	p, err := a.Reviews.Propose(ctx, review.Actor{ID: u.Email, Role: auth.Role(u.Role)}, in, submit)
	var problems *registry.ProblemsError
	if errors.As(err, &problems) {
		for _, pr := range problems.Problems {
			fmt.Fprintln(stdout, pr.String())
		}
		return lintFailed{len(problems.Problems)}
	}
	if err != nil {
		return err
	}
	v, err := a.Reviews.View(ctx, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "proposal %d (%s): %s\n", p.ID, p.State, p.Title)
	for _, c := range v.Changes {
		fmt.Fprintf(stdout, "  %s\n", c.Change.String())
	}
	for _, r := range v.Requirements {
		fmt.Fprintf(stdout, "needs %s: %s\n", review.RoleTitle(r.Role), r.Reason)
	}
	if p.State == string(review.Draft) {
		fmt.Fprintf(stdout, "answer its questions and submit it in the portal: %s/admin/reviews/%d\n", app.PublicURL(a.Config), p.ID)
	}
	return nil
}

func reviewList(ctx context.Context, a *app.App, state string, stdout io.Writer) error {
	q := store.ProposalQuery{Limit: 1000}
	if state != "" {
		q.States = []string{state}
	}
	ps, err := a.Store.ListProposals(ctx, q)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(stdout, "no proposals")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCATEGORY\tNEEDS\tOWNER\tUPDATED\tTITLE")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", p.ID, p.State, p.MaxCategory, strings.Join(p.Required, ","), p.Owner,
			p.UpdatedAt.Format(time.RFC3339), p.Title)
	}
	return tw.Flush()
}

func reviewShow(ctx context.Context, a *app.App, id int64, stdout io.Writer) error {
	v, err := a.Reviews.Get(ctx, id)
	if err != nil {
		return noProposal(err, id)
	}
	p := v.Proposal
	fmt.Fprintf(stdout, "proposal %d (%s, revision %d, against registry version %d): %s\nproposer: %s\n", p.ID, p.State, p.Revision, p.BaseVersion, p.Title, p.Owner)
	if p.Published > 0 {
		fmt.Fprintf(stdout, "published as registry version %d\n", p.Published)
	}
	fmt.Fprintln(stdout, "changes:")
	for _, c := range v.Changes {
		fmt.Fprintf(stdout, "  %s\n", c.Change.String())
	}
	fmt.Fprintln(stdout, "sign-offs:")
	for _, r := range v.Matrix {
		who := "waiting"
		if r.Approval != nil {
			who = "approved by " + r.Approval.Reviewer + " at " + r.Approval.At.Format(time.RFC3339)
		} else if r.Latest != nil {
			who = r.Latest.Decision + " by " + r.Latest.Reviewer + " (does not count for the changes as they are now)"
		}
		fmt.Fprintf(stdout, "  %s (%s): %s\n", review.RoleTitle(r.Role), r.Reason, who)
	}
	fmt.Fprintln(stdout, "history:")
	for _, h := range v.History {
		fmt.Fprintf(stdout, "  %s %s %s→%s %s\n", h.At.Format(time.RFC3339), h.Actor, orDash(h.From), h.To, h.Note)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
