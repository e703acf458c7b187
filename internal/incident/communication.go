package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Communication is the Art. 34 message to the people affected: in clear
// and plain language what happened, when, what data, the likely
// consequences, what the controller did, what they can do, and whom to
// ask (Art. 34(2) with Art. 33(3)(b)–(d)).
type Communication struct {
	Incident     int64            `json:"incident"`
	GeneratedAt  time.Time        `json:"generated_at"`
	Controller   ReportController `json:"controller"`
	Subject      string           `json:"subject"`
	WhatHappened string           `json:"what_happened"`
	When         string           `json:"when"`
	Data         []string         `json:"data"`
	Consequences string           `json:"likely_consequences"`
	Measures     string           `json:"measures"`
	Advice       []string         `json:"advice"`
	// Unknown names what a person must still write before it can be sent.
	Unknown []string `json:"unknown"`
}

var happenedWords = map[string]string{
	SourcePolicy:    "Someone with access to our systems looked at personal data in a way our rules do not allow.",
	SourceIntegrity: "We found that our records of who looked at personal data may have been changed, so we cannot be sure who saw it.",
	SourceUnusual:   "An account with access to our systems read far more personal data than it normally does, which suggests it was misused.",
}

// Communication drafts the Art. 34 message of incident id.
func (s *Service) Communication(ctx context.Context, id int64) (Communication, error) {
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return Communication{}, err
	}
	return s.CommunicationOf(inc), nil
}

// CommunicationOf drafts the Art. 34 communication from an incident
// already read.
func (s *Service) CommunicationOf(inc store.Incident) Communication {
	r := s.AuthorityReportOf(inc, nil)
	c := Communication{Incident: inc.ID, GeneratedAt: r.GeneratedAt, Controller: r.Controller,
		Consequences: inc.Consequences, Measures: inc.Measures, Data: []string{}, Unknown: []string{}}
	who := c.Controller.Name
	if who == "" {
		who = "us"
	}
	c.Subject = "Important: a personal data breach that involves your data"
	if c.Controller.Name != "" {
		c.Subject += " (" + c.Controller.Name + ")"
	}
	c.WhatHappened = happenedWords[inc.Source]
	if c.WhatHappened == "" {
		c.WhatHappened = inc.Title + "."
	}
	switch {
	case r.Nature.LeakAt != nil:
		c.When = fmt.Sprintf("It began on %s. We found out on %s.", day(*r.Nature.LeakAt), day(inc.AwareAt))
	default:
		c.When = fmt.Sprintf("We found out on %s. We do not know yet when it began.", day(inc.AwareAt))
	}
	if r.Data != nil {
		for _, cat := range r.Data.Categories {
			c.Data = append(c.Data, categoryText(cat))
		}
	}
	if len(c.Data) == 0 {
		c.Unknown = append(c.Unknown, "data: no blast radius says what data was reached")
	}
	if c.Consequences == "" {
		c.Unknown = append(c.Unknown, "likely_consequences: describe them first (Art. 34(2), Art. 33(3)(c))")
	}
	if c.Measures == "" {
		c.Unknown = append(c.Unknown, "measures: describe them first (Art. 34(2), Art. 33(3)(d))")
	}
	if c.Controller.DPO == "" && c.Controller.Contact == "" {
		c.Unknown = append(c.Unknown, "dpo: the registry's controller section names no DPO or contact (Art. 34(2), Art. 33(3)(b))")
	}
	c.Advice = []string{
		"Be careful with e-mails, calls or messages that mention this incident or ask for passwords or payment details. We will never ask you for your password.",
		fmt.Sprintf("If you want to know what data %s holds about you, or want it deleted, you can ask us (see below).", who),
		"You also have the right to complain to a data protection authority.",
	}
	return c
}

func day(t time.Time) string {
	if t.IsZero() {
		return "a day not known yet"
	}
	return t.UTC().Format("2 January 2006")
}

// Markdown renders the communication as a draft to read or publish (the
// public communication of Art. 34(3)(c) can start from it).
func (c Communication) Markdown() string { return c.render(mdEscape) }

// Text is the e-mail's body: the same words, as plain text, since a mail
// reader shows Markdown's escapes as they are.
func (c Communication) Text() string { return c.render(func(s string) string { return s }) }

func (c Communication) render(esc func(string) string) string {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	p("# %s\n\n", esc(c.Subject))
	p("We are writing to tell you about a problem with the security of personal data, which includes data about you.\n\n")
	p("## What happened\n\n%s %s\n\n", esc(c.WhatHappened), c.When)
	p("## What data\n\n")
	if len(c.Data) == 0 {
		p("We are still finding out which data was involved.\n\n")
	} else {
		p("The data involved may include:\n\n")
		for _, d := range c.Data {
			p("- %s\n", d)
		}
		p("\n")
	}
	p("## What this could mean for you\n\n%s\n\n", orStill(esc(c.Consequences)))
	p("## What we have done\n\n%s\n\n", orStill(esc(c.Measures)))
	p("## What you can do\n\n")
	for _, a := range c.Advice {
		p("- %s\n", esc(a))
	}
	p("\n## Whom to ask\n\n")
	if c.Controller.DPO != "" {
		p("Our data protection officer: %s\n", esc(c.Controller.DPO))
	}
	if c.Controller.Contact != "" {
		p("%s: %s\n", orWord(esc(c.Controller.Name), "Contact"), esc(c.Controller.Contact))
	}
	p("\nReference: incident %d.\n", c.Incident)
	return b.String()
}

func orStill(s string) string {
	if s == "" {
		return "We are still finding this out and will tell you more."
	}
	return s
}

func orWord(s, w string) string {
	if s == "" {
		return w
	}
	return s
}

// CommunicateInput asks to send the Art. 34 communication.
type CommunicateInput struct {
	// Version, when non-zero, is the version the person read.
	Version int64
}

// Communicated is what CommunicateToSubjects did.
type Communicated struct {
	// Sent is how many e-mails this run enqueued; Already how many people
	// had been written to before (none is written to twice).
	Sent, Already int
	// NoContact counts the affected people with no confirmed e-mail
	// address: they need the public communication (Art. 34(3)(c)).
	NoContact int64
	// Subjects is the blast radius's count of people; KeysTruncated says
	// that it keeps fewer keys than that, so some people could not be
	// matched at all.
	Subjects      int64
	KeysTruncated bool
	Incident      store.Incident
}

// ArtRef is the outbox reference of an incident's Art. 34 e-mails.
func ArtRef(id int64) string { return fmt.Sprintf("incident:%d:art34", id) }

// ErrNotNow refuses the communication while it cannot be sent: before
// Art. 34 was decided, or once the incident ended (the API answers 409).
var ErrNotNow = errors.New("refused")

// CommunicateToSubjects sends the Art. 34 communication by e-mail to each
// affected person with a confirmed address, once, and records how many
// were told and how many have no contact known. It moves the incident to
// notified_subjects when its state allows and someone was told.
func (s *Service) CommunicateToSubjects(ctx context.Context, id int64, a Actor, in CommunicateInput) (Communicated, error) {
	if !slices.Contains(Managers, a.Role) {
		return Communicated{}, fmt.Errorf("%w: role %s may not communicate breaches", ErrForbidden, a.Role)
	}
	for range 2 {
		res, err := s.communicateOnce(ctx, id, a, in)
		// Without a version the person asked for the incident as it is: a
		// change in between (a clock's notice) is read again and checked anew.
		if !errors.Is(err, store.ErrConflict) || in.Version != 0 {
			return res, err
		}
	}
	return s.communicateOnce(ctx, id, a, in)
}

func (s *Service) communicateOnce(ctx context.Context, id int64, a Actor, in CommunicateInput) (Communicated, error) {
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return Communicated{}, err
	}
	if in.Version != 0 && in.Version != inc.Version {
		return Communicated{}, store.ErrConflict
	}
	if !art34Decided(inc) {
		return Communicated{}, fmt.Errorf("%w: the people are told only once a high risk to them was decided (Art. 34(1)); decide it first (decide_high_risk, or the severity decision)", ErrNotNow)
	}
	if Lifecycle.Final(workflow.State(inc.State)) {
		return Communicated{}, fmt.Errorf("%w: incident %d is %s; nobody is written to about an ended incident", ErrNotNow, inc.ID, inc.State)
	}
	b, ok := BlastOf(inc)
	if !ok {
		return Communicated{}, invalid("no blast radius yet: compute it first, so steward knows who was affected")
	}
	msg := s.CommunicationOf(inc)
	if len(msg.Unknown) > 0 {
		return Communicated{}, invalid("the communication is not complete: %s", strings.Join(msg.Unknown, "; "))
	}
	found, err := s.findContacts(ctx, b.SubjectKeys)
	if err != nil {
		return Communicated{}, err
	}
	res := Communicated{Subjects: b.Subjects, KeysTruncated: b.KeysTruncated,
		NoContact: max(0, b.Subjects-int64(found.Matched))}
	body := msg.Text()
	m := s.machine()
	now := s.now()
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		res.Already = 0 // the store may run this again
		var out []store.OutboxMessage
		for _, to := range found.Emails {
			first, err := tx.MarkIncidentNotice(ctx, inc.ID, "art34:"+s.addressKey(to), now)
			if err != nil {
				return err
			}
			if !first {
				res.Already++
				continue
			}
			out = append(out, store.OutboxMessage{Kind: store.OutboxEmail, To: to, Subject: msg.Subject, Body: body,
				Ref: ArtRef(inc.ID), CreatedAt: now})
		}
		res.Sent = len(out)
		if err := tx.EnqueueOutbox(ctx, out); err != nil {
			return err
		}
		note := communicatedNote(res)
		next := inc
		if res.Sent > 0 && next.SubjectsNotifiedAt.IsZero() {
			next.SubjectsNotifiedAt = now
		}
		var err error
		if res.Sent > 0 && slices.Contains(Lifecycle.Actions(workflow.State(next.State)), NotifySubjects) {
			next, err = s.fireIn(ctx, tx, m, next, NotifySubjects, a.Name, note)
		} else {
			next, _, err = m.NoteIn(ctx, tx, next, a.Name, note)
		}
		if err != nil {
			return err
		}
		res.Incident = next
		return appendEntries(ctx, tx, actionEntry(now, a, next, note))
	})
	if err != nil {
		return Communicated{}, err
	}
	if res.Sent > 0 && s.Wake != nil {
		s.Wake()
	}
	s.log().Info("incident: art. 34 communication", "incident", inc.ID, "sent", res.Sent, "already", res.Already, "no_contact", res.NoContact)
	return res, nil
}

// art34Decided: a person decided the people must be told, by the
// high-risk decision or the severity's; the later of the two counts.
func art34Decided(inc store.Incident) bool {
	decided := !inc.HighRiskAt.IsZero()
	if sev, ok := SeverityOf(inc); ok && sev.Decided != nil && (!decided || sev.DecidedAt.After(inc.HighRiskAt)) {
		decided = sev.Decided.Art34
	}
	return decided
}

func communicatedNote(r Communicated) string {
	n := fmt.Sprintf("told %d people by e-mail (Art. 34)", r.Sent)
	if r.Already > 0 {
		n += fmt.Sprintf("; %d had been told before", r.Already)
	}
	if r.NoContact > 0 {
		n += fmt.Sprintf("; %d affected people have no contact known: public communication needed (Art. 34(3)(c))", r.NoContact)
	}
	if r.KeysTruncated {
		n += "; the blast radius keeps only part of the people's keys, so recompute it to reach the rest"
	}
	return n
}

// addressKey names an address in incident_notices without the address.
func (s *Service) addressKey(email string) string {
	if s.Keyer != nil {
		return s.Keyer.Hash("incident-art34", email)
	}
	h := sha256.Sum256([]byte(email))
	return hex.EncodeToString(h[:])
}

// fireIn is the machine's FireAlso inside the caller's transaction: the
// communication's marks, mail and move must commit together.
func (s *Service) fireIn(ctx context.Context, tx store.Tx, m *workflow.Machine[store.Incident], i store.Incident, act workflow.Action, actor, note string) (store.Incident, error) {
	from := workflow.State(i.State)
	to, err := Lifecycle.Next(from, act)
	if err != nil {
		return i, err
	}
	now := s.now()
	m.Kind.Enter(&i, to, now)
	m.Kind.Touch(&i, now)
	if err := m.Kind.Update(ctx, tx, &i); err != nil {
		return i, err
	}
	return i, m.Kind.Record(ctx, tx, i, workflow.Entry{At: now, Actor: actor, Action: act, From: from, To: to, Note: note})
}
