package rights

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
)

// Workers are the roles that work requests in the portal; the public
// notice names them.
var Workers = []auth.Role{auth.Support, auth.Admin}

// Request returns one request, for a caller that checks its version
// before acting.
func (s *Service) Request(ctx context.Context, id string) (store.Request, error) {
	return s.get(ctx, id)
}

// List returns one page of requests, newest first, and the total matching.
func (s *Service) List(ctx context.Context, f store.RequestFilter) ([]store.Request, int, error) {
	return s.Store.ListRequests(ctx, f)
}

// OpenStatuses and ClosedStatuses split the lifecycle's statuses.
func OpenStatuses() (out []string) {
	for _, s := range Statuses() {
		if s.Open() {
			out = append(out, string(s))
		}
	}
	return out
}

// ClosedStatuses are the final statuses.
func ClosedStatuses() (out []string) {
	for _, s := range Statuses() {
		if !s.Open() {
			out = append(out, string(s))
		}
	}
	return out
}

// Counts is the portal's summary: requests by status, and the open ones
// overdue now or due within soon.
func (s *Service) Counts(ctx context.Context, soon time.Duration) (store.RequestCounts, error) {
	now := s.Clock.Now().UTC()
	return s.Store.CountRequests(ctx, OpenStatuses(), now, now.Add(soon))
}

// Detail is everything the portal shows of one request.
type Detail struct {
	Request store.Request
	History []store.RequestEvent
	Steps   []store.RequestStep
	// Messages are the e-mails and webhook calls the request caused,
	// oldest first, with whether each was sent.
	Messages []store.OutboxMessage
}

// Detail returns a request with its history, steps and messages.
func (s *Service) Detail(ctx context.Context, id string) (Detail, error) {
	var d Detail
	var err error
	if d.Request, err = s.get(ctx, id); err != nil {
		return d, err
	}
	if d.History, err = s.Store.RequestHistory(ctx, id); err != nil {
		return d, err
	}
	if d.Steps, err = s.Store.RequestSteps(ctx, id); err != nil {
		return d, err
	}
	// Every ref the service writes is "request:<id>:<what>".
	d.Messages, err = s.Store.ListOutbox(ctx, "request:"+id+":", 100)
	return d, err
}

// Take: support starts work on a received request.
func (s *Service) Take(ctx context.Context, id, actor string) (store.Request, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return r, err
	}
	r.Assignee = actor
	return s.transition(ctx, r, Take, actor, "taken by "+actor, nil)
}

// Offer is which of support's actions can work on a request as it is:
// the portal offers only these, and the actions refuse the rest with the
// reasons given here, so nobody is offered a button that cannot work.
type Offer struct {
	Take, Ask, Execute, Reject, Extend bool
	// NoAsk and NoExecute say why a request in progress cannot be asked
	// about or executed yet ("" when it can, or when it is not in
	// progress, where neither is expected).
	NoAsk, NoExecute string
}

// Offers is what support may do with r now.
func Offers(r store.Request) Offer {
	st := Status(r.Status)
	o := Offer{Take: st == Received, Reject: st.Open(), Extend: st.Open() && r.ExtensionReason == ""}
	if st == InProgress {
		o.NoAsk, o.NoExecute = cannotAsk(r), cannotExecute(r)
		o.Ask, o.Execute = o.NoAsk == "", o.NoExecute == ""
	}
	return o
}

// cannotExecute says why r cannot be executed, or "".
func cannotExecute(r store.Request) string {
	switch {
	case Status(r.Status) != InProgress:
		return "only a request in progress can be executed (this one is " + Status(r.Status).Words() + ")"
	case r.Channel == ChannelGlean:
		// The client id is the credential: a Glean deletion request has no
		// e-mail step (docs/glean.md).
		return ""
	case r.Email == "":
		return "nobody has confirmed this request, and nobody can: no e-mail address is known for it (no account is linked to this Facebook user). Reject it with a reason"
	case r.EmailConfirmedAt.IsZero():
		return "the person has not confirmed the request by e-mail yet; it can be executed once they follow the link sent to " + r.Email
	}
	return ""
}

// cannotAsk says why the person cannot be asked a question about r, or "".
func cannotAsk(r store.Request) string {
	switch {
	case Status(r.Status) != InProgress:
		return "only a request in progress can be asked about (this one is " + Status(r.Status).Words() + ")"
	case r.Email == "":
		return "there is no e-mail address to send a question to"
	}
	return ""
}

// AskUser sends the person a question; the request waits for the answer.
func (s *Service) AskUser(ctx context.Context, id, actor, question string) (store.Request, error) {
	if err := checkText("question", question, true); err != nil {
		return store.Request{}, err
	}
	question = strings.TrimSpace(question)
	if question == "" || len(question) > 2000 {
		return store.Request{}, fmt.Errorf("%w: write a question of at most 2000 characters", ErrBadIntake)
	}
	r, err := s.get(ctx, id)
	if err != nil {
		return r, err
	}
	if why := cannotAsk(r); why != "" {
		return r, fmt.Errorf("%w: %s", ErrNotReady, why)
	}
	r.Question, r.Answer = question, ""
	return s.transition(ctx, r, Ask, actor, "asked the person: "+question, nil)
}

// AnswerQuestion records the person's answer from the status page and
// puts the request back in progress.
func (s *Service) AnswerQuestion(ctx context.Context, id, token, answer string) (store.Request, error) {
	if err := checkText("answer", answer, true); err != nil {
		return store.Request{}, err
	}
	answer = strings.TrimSpace(answer)
	if answer == "" || len(answer) > 5000 {
		return store.Request{}, fmt.Errorf("%w: write an answer of at most 5000 characters", ErrBadIntake)
	}
	r, _, err := s.View(ctx, id, token)
	if err != nil {
		return r, err
	}
	r.Answer = answer
	return s.transition(ctx, r, Answer, "user", "the person answered: "+answer, nil)
}

// RejectRequest closes an open request with a reason the person reads.
func (s *Service) RejectRequest(ctx context.Context, id, actor, reason string) (store.Request, error) {
	if err := checkText("reason", reason, true); err != nil {
		return store.Request{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return store.Request{}, fmt.Errorf("%w: a rejection needs a reason (at most 2000 characters) the person will read", ErrBadIntake)
	}
	r, err := s.get(ctx, id)
	if err != nil {
		return r, err
	}
	r.RejectReason = reason
	return s.transition(ctx, r, Reject, actor, "rejected: "+reason, nil)
}

// Extend uses the law's one extension of the deadline, with a reason.
func (s *Service) Extend(ctx context.Context, id, actor, reason string) (store.Request, error) {
	if err := checkText("reason", reason, true); err != nil {
		return store.Request{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return store.Request{}, fmt.Errorf("%w: an extension needs a reason (at most 500 characters) the person will read", ErrBadIntake)
	}
	r, err := s.get(ctx, id)
	if err != nil {
		return r, err
	}
	switch {
	case !Status(r.Status).Open():
		return r, fmt.Errorf("%w: the request is closed", ErrNotReady)
	case r.ExtensionReason != "":
		return r, fmt.Errorf("%w: the deadline was already extended once", ErrNotReady)
	}
	law := s.Config.Laws[r.Law]
	r.DueAt, r.ExtensionReason = law.Extended(r.DueAt), reason
	return s.note(ctx, r, actor, "deadline extended to "+r.DueAt.Format("2006-01-02")+": "+reason,
		[]store.OutboxMessage{s.extensionMail(r)})
}

func (s *Service) extensionMail(r store.Request) store.OutboxMessage {
	m := s.mail(r, mailReceived, "")
	m.Subject = "More time needed for your request " + r.ID
	m.Body = "Hello,\n\nWe need more time to complete your " + r.Type + " request " + r.ID + ", because:\n\n  " + s.quoted(r, r.ExtensionReason) +
		"\n\nThe new deadline is " + r.DueAt.Format("2 January 2006") + ". Follow it here:\n\n  " + notify.Placeholder(secretStatusLink) +
		"\n\n" + s.Config.Controller + "\n"
	m.Ref = "request:" + r.ID + ":extended"
	s.seal(&m, map[string]string{secretStatusLink: s.StatusURL(r.ID)}) // sealed again: bound to this text
	return m
}

// ExportFile returns the path of a request's access archive if token is
// its status token and the archive has not expired.
func (s *Service) ExportFile(ctx context.Context, id, token string) (store.Request, string, error) {
	r, _, err := s.View(ctx, id, token)
	if err != nil {
		return r, "", err
	}
	if r.ExportPath == "" {
		return r, "", fmt.Errorf("%w: there is no archive for this request", ErrNotReady)
	}
	if !s.Clock.Now().Before(r.ExportExpiresAt) {
		return r, "", ErrExpired
	}
	if _, err := os.Stat(r.ExportPath); errors.Is(err, os.ErrNotExist) {
		return r, "", ErrExpired
	}
	return r, r.ExportPath, nil
}
