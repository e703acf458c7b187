package review

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Store is what reviews keep and read.
type Store interface {
	store.Reviews
	store.Transactor
	store.RegistryVersions
	ListUsers(ctx context.Context) ([]store.User, error)
}

// Environment is what the review request document fills in from the
// deployment rather than the registry.
type Environment struct {
	// OptOut lists the opt-out mechanisms steward honours for every dataset.
	OptOut []string
	// Recipients lists where data leaves steward (connectors, webhooks).
	Recipients []string
	// NoticeURL is the public notice people are pointed to.
	NoticeURL string
}

// Service runs reviews.
type Service struct {
	Store    Store
	Registry *registry.Source
	// NoticeDiff, when set, lists how the public notice generated from b
	// differs from a's; nil falls back to the notice-relevant attributes.
	NoticeDiff func(a, b *registry.Registry) []string
	Env        Environment
	Clock      clock.Clock
	Log        *slog.Logger
	// PublicURL is how reviewers reach the portal, for links in messages.
	PublicURL string
	// Webhook, when set, names a configured webhook that hears every
	// notification too.
	Webhook string
	// ExpiryNotice is how long before an expiry its owner is told
	// (default 14 days).
	ExpiryNotice time.Duration
	// Wake tells the outbox worker there is mail.
	Wake func()

	pending Pending
	parsed  sync.Map // version number → *registry.Registry (versions never change)
}

// Input is a proposal's text and metadata. Empty fields take the values of
// the file's review: section.
type Input struct {
	YAML    []byte
	Name    string // for lint messages (a file name)
	Title   string
	Links   []string
	Answers map[string]string
	// Warnings are an import's findings a person must look at (a Glean
	// metric type steward drops, say); the proposal's first history line
	// keeps them.
	Warnings []string
}

// meta is a proposal file's review: section.
type meta struct {
	Review struct {
		Title   string            `yaml:"title"`
		Links   []string          `yaml:"links"`
		Answers map[string]string `yaml:"answers"`
	} `yaml:"review"`
}

func (in Input) merged() (Input, error) {
	var m meta
	if err := yaml.Unmarshal(in.YAML, &m); err != nil {
		return in, invalid("review: section: %v", err)
	}
	if in.Title == "" {
		in.Title = m.Review.Title
	}
	if len(in.Links) == 0 {
		in.Links = m.Review.Links
	}
	answers := map[string]string{}
	for k, v := range m.Review.Answers {
		answers[k] = v
	}
	for k, v := range in.Answers {
		answers[k] = v
	}
	in.Answers = answers
	return in, nil
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// versionRegistry is the registry of a stored version (an empty one for 0,
// before anything was approved).
func (s *Service) versionRegistry(ctx context.Context, n int64) (*registry.Registry, error) {
	if n == 0 {
		return &registry.Registry{}, nil
	}
	if r, ok := s.parsed.Load(n); ok {
		return r.(*registry.Registry), nil
	}
	v, err := s.Store.GetRegistryVersion(ctx, n)
	if err != nil {
		return nil, err
	}
	r, problems := registry.ParseWith(v.YAML, fmt.Sprintf("registry version %d", n), registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		return nil, &registry.ProblemsError{Source: fmt.Sprintf("registry version %d", n), Problems: problems}
	}
	s.parsed.Store(n, r)
	return r, nil
}

func (s *Service) current() (*registry.Registry, int64) {
	r, n := s.Registry.Current(), s.Registry.Version()
	if r == nil || n == 0 {
		// Nothing approved yet: every dataset is new.
		return &registry.Registry{}, 0
	}
	return r, n
}

// parse lints a proposal's file as the registry would, with the checks a
// version must pass to be published (the read policy still fits, aliases
// are free): a proposal that could never be published is refused now.
func (s *Service) parse(data []byte, name string) (*registry.Registry, error) {
	if len(data) == 0 {
		return nil, invalid("the proposal has no registry file")
	}
	reg, _, err := s.Registry.Prepare(data, name, registry.Approval{})
	var problems *registry.ProblemsError
	if err != nil && !errors.As(err, &problems) {
		// A check a version must pass (the read policy fits, aliases are
		// free) refused it.
		return nil, invalid("this registry could not be published: %v", err)
	}
	return reg, err
}

func proposedRegistry(p store.Proposal) (*registry.Registry, error) {
	name := fmt.Sprintf("proposal %d revision %d", p.ID, p.Revision)
	r, problems := registry.ParseWith(p.YAML, name, registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		return nil, &registry.ProblemsError{Source: name, Problems: problems}
	}
	return r, nil
}

func (s *Service) analyse(base, proposed *registry.Registry) ([]Change, []string, int, []Requirement) {
	changes, notice := Analyse(base, proposed, s.NoticeDiff)
	top, req := Required(changes, notice, s.sendsElsewhere(proposed, changes))
	return changes, notice, top, req
}

// sendsElsewhere: a changed dataset whose events leave steward through a
// configured recipient.
func (s *Service) sendsElsewhere(_ *registry.Registry, changes []Change) bool {
	return len(s.Env.Recipients) > 0 && len(changes) > 0
}

func roleNames(req []Requirement) []string {
	out := make([]string, len(req))
	for i, r := range req {
		out[i] = string(r.Role)
	}
	return out
}

func (s *Service) machine() *workflow.Machine[store.Proposal] {
	return &workflow.Machine[store.Proposal]{
		Kind: workflow.Kind[store.Proposal]{
			Table: Lifecycle,
			State: func(p store.Proposal) workflow.State { return workflow.State(p.State) },
			Enter: func(p *store.Proposal, st workflow.State, at time.Time) { p.State, p.StateAt = string(st), at },
			Touch: func(p *store.Proposal, at time.Time) { p.UpdatedAt = at },
			Insert: func(ctx context.Context, tx store.Tx, p *store.Proposal) error {
				return tx.CreateProposal(ctx, p)
			},
			Update: func(ctx context.Context, tx store.Tx, p *store.Proposal) error {
				return tx.UpdateProposal(ctx, p)
			},
			Record: func(ctx context.Context, tx store.Tx, p store.Proposal, h workflow.Entry) error {
				return tx.AppendProposalEvent(ctx, store.ProposalEvent{ProposalID: p.ID, At: h.At, Actor: h.Actor,
					Action: string(h.Action), From: string(h.From), To: string(h.To), Note: h.Note})
			},
		},
		Store: s.Store,
		Clock: s.Clock,
		Committed: func(p store.Proposal, h workflow.Entry, messages int) {
			// This node answers collection with the proposal's new state
			// at once; other nodes within their poll.
			s.pending.forget(p.ID)
			if err := s.RefreshPending(context.Background()); err != nil {
				s.log().Warn("review: cannot refresh the index of open proposals", "err", err)
			}
			if messages > 0 && s.Wake != nil {
				s.Wake()
			}
		},
	}
}

// Operator is the proposer of a start-up registry file. Any admin acts as
// its proposer (answers, revises, submits, withdraws); none can sign it,
// since admin is not a reviewer role.
const Operator = "operator"

// owns reports whether actor may act as p's proposer.
func owns(p store.Proposal, actor Actor) bool {
	return actor.ID == p.Owner || (p.Owner == Operator && actor.Role == auth.Admin)
}

// Propose stores a new proposal in draft (or submits it at once).
func (s *Service) Propose(ctx context.Context, actor Actor, in Input, submit bool) (store.Proposal, error) {
	if !slices.Contains(ProposerRoles, actor.Role) {
		return store.Proposal{}, forbidden("role %s may not propose registry changes", actor.Role)
	}
	in, err := in.merged()
	if err != nil {
		return store.Proposal{}, err
	}
	if in.Name == "" {
		in.Name = "proposal"
	}
	proposed, err := s.parse(in.YAML, in.Name)
	if err != nil {
		return store.Proposal{}, err
	}
	base, baseV := s.current()
	changes, _, top, req := s.analyse(base, proposed)
	if len(changes) == 0 {
		return store.Proposal{}, ErrNoChange
	}
	if in.Title == "" {
		in.Title = defaultTitle(changes)
	}
	if err := checkLinks(in.Links); err != nil {
		return store.Proposal{}, err
	}
	p := store.Proposal{Title: strings.TrimSpace(in.Title), Owner: actor.ID, Links: in.Links, State: string(Draft),
		BaseVersion: baseV, YAML: in.YAML, Digest: digest(in.YAML), Revision: 1, Answers: cleanAnswers(in.Answers),
		MaxCategory: top, Required: roleNames(req), CreatedAt: s.now()}
	note := fmt.Sprintf("proposed from %s against registry version %d: %d change(s), highest category %d", in.Name, baseV, len(changes), top)
	if len(in.Warnings) > 0 {
		note += "; import warnings: " + strings.Join(in.Warnings, "; ")
	}
	p, err = s.machine().Create(ctx, p, actor.ID, note)
	if err != nil || !submit {
		return p, err
	}
	return s.Submit(ctx, actor, p.ID, p.Revision)
}

func defaultTitle(changes []Change) string {
	keys := make([]string, 0, 3)
	for _, c := range changes[:min(3, len(changes))] {
		keys = append(keys, c.What+" "+c.Key())
	}
	t := strings.Join(keys, ", ")
	if len(changes) > 3 {
		t += fmt.Sprintf(" and %d more", len(changes)-3)
	}
	return t
}

func checkLinks(links []string) error {
	for _, l := range links {
		if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
			return invalid("links: %q is not an http(s) address", l)
		}
	}
	return nil
}

func cleanAnswers(a map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if !slices.ContainsFunc(Questions, func(q Question) bool { return q.Key == k }) {
			continue
		}
		if v = strings.TrimSpace(v); v != "" {
			out[k] = v
		}
	}
	return out
}

// need is load for an action that must name the revision it read.
func (s *Service) need(ctx context.Context, id int64, revision int) (store.Proposal, error) {
	if revision <= 0 {
		return store.Proposal{}, invalid("revision: give the revision of the proposal you read (it is on its page and in GET /v1/reviews/%d)", id)
	}
	return s.load(ctx, id, revision)
}

// load reads a proposal and checks the revision the caller acted on.
func (s *Service) load(ctx context.Context, id int64, revision int) (store.Proposal, error) {
	p, err := s.Store.GetProposal(ctx, id)
	if err != nil {
		return p, err
	}
	if revision != 0 && revision != p.Revision {
		return p, fmt.Errorf("%w: you acted on revision %d, it is at revision %d", ErrStale, revision, p.Revision)
	}
	return p, nil
}

// Submit asks for the reviews: every question the registry cannot answer
// must be answered first.
func (s *Service) Submit(ctx context.Context, actor Actor, id int64, revision int) (store.Proposal, error) {
	p, err := s.need(ctx, id, revision)
	if err != nil {
		return p, err
	}
	if !owns(p, actor) {
		return p, forbidden("only the proposer (%s) submits a proposal for review", p.Owner)
	}
	var missing []string
	for _, q := range Questions {
		if q.Proposer && p.Answers[q.Key] == "" {
			missing = append(missing, q.Key)
		}
	}
	if len(missing) > 0 {
		return p, &InvalidError{Problems: []string{"answer the review request's questions before submitting: " + strings.Join(missing, ", ")}}
	}
	v, err := s.View(ctx, p)
	if err != nil {
		return p, err
	}
	out := s.tell(ctx, p, s.requiredPeople(ctx, v.Requirements, p.Owner),
		fmt.Sprintf("Review needed: proposal %d, %s", p.ID, p.Title),
		fmt.Sprintf("%s asks for your review of proposal %d (%s).\nHighest category: %d. Sign-offs needed: %s.\n",
			p.Owner, p.ID, p.Title, p.MaxCategory, requirementList(v.Requirements)))
	return s.machine().Fire(ctx, p, ActSubmit, actor.ID, "submitted for review", out...)
}

func requirementList(req []Requirement) string {
	parts := make([]string, len(req))
	for i, r := range req {
		parts[i] = RoleTitle(r.Role)
	}
	return strings.Join(parts, ", ")
}

// Revise replaces the proposal's file (nil keeps it) or its answers. The
// changes are diffed again against the registry now approved; a sign-off
// stays valid only for a change set it saw exactly (Unseen lists the
// rest for each reviewer).
func (s *Service) Revise(ctx context.Context, actor Actor, id int64, revision int, in Input) (store.Proposal, error) {
	p, err := s.need(ctx, id, revision)
	if err != nil {
		return p, err
	}
	if !owns(p, actor) {
		return p, forbidden("only the proposer (%s) revises a proposal", p.Owner)
	}
	if st := workflow.State(p.State); st != Draft && st != InReview {
		return p, invalid("proposal %d is %s; only a draft or a proposal in review can be revised", p.ID, p.State)
	}
	data := p.YAML
	if len(in.YAML) > 0 {
		data = in.YAML
	}
	in.YAML = data
	if in, err = in.merged(); err != nil {
		return p, err
	}
	if in.Name == "" {
		in.Name = fmt.Sprintf("proposal %d", p.ID)
	}
	proposed, err := s.parse(data, in.Name)
	if err != nil {
		return p, err
	}
	base, baseV := s.current()
	changes, _, top, req := s.analyse(base, proposed)
	if len(changes) == 0 {
		return p, ErrNoChange
	}
	if err := checkLinks(in.Links); err != nil {
		return p, err
	}
	before := p
	p.YAML, p.Digest, p.BaseVersion, p.MaxCategory, p.Required = data, digest(data), baseV, top, roleNames(req)
	p.Revision++
	if in.Title != "" {
		p.Title = strings.TrimSpace(in.Title)
	}
	if in.Links != nil {
		p.Links = in.Links
	}
	answers := map[string]string{}
	for k, v := range p.Answers {
		answers[k] = v
	}
	for k, v := range in.Answers {
		answers[k] = v
	}
	p.Answers = cleanAnswers(answers)
	what := "answers"
	if before.Digest != p.Digest {
		what = "the registry file"
	}
	note := fmt.Sprintf("revised %s (revision %d, against registry version %d)", what, p.Revision, baseV)
	var out []store.OutboxMessage
	if workflow.State(p.State) == InReview {
		out = s.tell(ctx, p, s.parties(ctx, p, nil), fmt.Sprintf("Proposal %d was revised", p.ID),
			fmt.Sprintf("%s revised %s of proposal %d (%s). Sign-offs count only for the changes as they now are.\n", p.Owner, what, p.ID, p.Title))
	}
	p, err = s.machine().Note(ctx, p, actor.ID, note, out...)
	if err != nil {
		return before, err
	}
	if workflow.State(p.State) == InReview {
		// Sign-offs that saw exactly these changes still count; they may
		// now be complete (a rebase after another approval).
		return s.complete(ctx, p)
	}
	return p, nil
}

func digest(b []byte) string { return registry.Digest(b) }

// Withdraw ends a proposal its proposer no longer wants.
func (s *Service) Withdraw(ctx context.Context, actor Actor, id int64, note string) (store.Proposal, error) {
	p, err := s.load(ctx, id, 0)
	if err != nil {
		return p, err
	}
	if !owns(p, actor) && actor.Role != auth.Admin {
		return p, forbidden("only the proposer (%s) or an admin withdraws a proposal", p.Owner)
	}
	if note = strings.TrimSpace(note); note == "" {
		note = "withdrawn"
	}
	return s.machine().Fire(ctx, p, ActWithdraw, actor.ID, note)
}

// errMoved: a version was published between the check and the approval's
// transaction; the approval is tried again against it.
var errMoved = errors.New("registry moved")

// publishing is an approval's registry version, prepared before its
// transaction and put in force after it commits.
type publishing struct {
	reg *registry.Registry
	rec store.RegistryVersion
}

func (s *Service) prepare(p store.Proposal, by, note string) (*publishing, error) {
	reg, rec, err := s.Registry.Prepare(p.YAML, fmt.Sprintf("proposal %d", p.ID), registry.Approval{By: by, Note: note, Proposal: p.ID})
	if err != nil {
		return nil, err
	}
	return &publishing{reg: reg, rec: rec}, nil
}

// also stores the version in the approval's transaction; after must
// follow a commit.
func (pub *publishing) also(expectHead int64) workflow.Also[store.Proposal] {
	return func(ctx context.Context, tx store.Tx, p *store.Proposal) error {
		n, err := tx.PublishRegistryVersion(ctx, pub.rec)
		if err != nil {
			return err
		}
		if n != expectHead+1 {
			return errMoved
		}
		pub.rec.Version, p.Published = n, n
		return nil
	}
}

func (s *Service) installed(pub *publishing) {
	s.Registry.Installed(pub.rec, pub.reg)
	s.log().Info("review: approved proposal published as a new registry version", "proposal", pub.rec.Proposal, "version", pub.rec.Version)
}

func chain[E any](fs ...workflow.Also[E]) workflow.Also[E] {
	return func(ctx context.Context, tx store.Tx, e *E) error {
		for _, f := range fs {
			if f == nil {
				continue
			}
			if err := f(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}
}

// retry runs f again when the proposal changed under it (another
// reviewer signed at the same moment) or the registry moved: each attempt
// reads everything afresh, so both sign-offs count, once each.
func retry(ctx context.Context, f func() (store.Proposal, error)) (store.Proposal, error) {
	var p store.Proposal
	var err error
	for range 8 {
		p, err = f()
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, errMoved) {
			return p, err
		}
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
	}
	return p, err
}
