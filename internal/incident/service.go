package incident

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Store is what incidents keep and read.
type Store interface {
	store.Incidents
	store.Transactor
	store.AccessLog
	store.RegistryVersions
	store.BlastRadii
	store.Tokens
	// Requests hold the verified e-mail addresses the Art. 34
	// communication is sent to (communication.go).
	store.Requests
	ListUsers(ctx context.Context) ([]store.User, error)
}

// Dataset is the access log's name for reads of incidents (which hold
// the names of credentials and people's keys); "@" keeps it apart from
// registry datasets.
const Dataset = "@incidents"

// Service opens and moves incidents and runs their clocks.
type Service struct {
	Store    Store
	Registry *registry.Source
	Clock    clock.Clock
	Log      *slog.Logger
	// ManagerEmails are told of every incident besides the accounts that
	// hold the incident_manager role.
	ManagerEmails []string
	// Obligations are the notification duties whose clocks run; nil is
	// DefaultObligations.
	Obligations []Obligation
	// Warnings are how long before a deadline the incident manager is
	// warned; nil is 24 h and 6 h.
	Warnings []time.Duration
	// PublicURL is how the portal is reached, for links in messages.
	PublicURL string
	// Wake tells the outbox worker there is mail.
	Wake func()
	// Keyer hashes a request's e-mail address into the subject keys a
	// blast radius holds, to find who can be told (communication.go);
	// nil matches requests by their own subject key only.
	Keyer *minimise.Keyer
}

// Actor is who acts on an incident.
type Actor struct {
	Name string
	Role auth.Role
	// Method and Credential are how they signed in, for the access log.
	Method, Credential string
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) machine() *workflow.Machine[store.Incident] {
	return &workflow.Machine[store.Incident]{
		Kind: workflow.Kind[store.Incident]{
			Table: Lifecycle,
			State: func(i store.Incident) workflow.State { return workflow.State(i.State) },
			Enter: func(i *store.Incident, st workflow.State, at time.Time) { i.State, i.StateAt = string(st), at },
			Touch: func(i *store.Incident, at time.Time) { i.UpdatedAt = at },
			Insert: func(ctx context.Context, tx store.Tx, i *store.Incident) error {
				i.CreatedAt = i.UpdatedAt
				return tx.CreateIncident(ctx, i)
			},
			Update: func(ctx context.Context, tx store.Tx, i *store.Incident) error { return tx.UpdateIncident(ctx, i) },
			Record: func(ctx context.Context, tx store.Tx, i store.Incident, h workflow.Entry) error {
				return tx.AppendIncidentEvent(ctx, store.IncidentEvent{IncidentID: i.ID, At: h.At, Actor: h.Actor,
					Action: string(h.Action), From: string(h.From), To: string(h.To), Note: h.Note})
			},
		},
		Store: s.Store,
		Clock: s.Clock,
		Committed: func(_ store.Incident, _ workflow.Entry, messages int) {
			if messages > 0 && s.Wake != nil {
				s.Wake()
			}
		},
	}
}

// Purpose is the access log's purpose of every read of and action on
// incidents.
const Purpose = "incident_response"

// ReadEntry makes e (who read, from where, when) the access-log entry of
// a read of incidents: the API, the portal and the CLI log their reads
// the same way.
func ReadEntry(e *store.AccessEntry, query string, records int) *store.AccessEntry {
	e.Purpose, e.Dataset, e.Query = Purpose, Dataset, query
	e.Records, e.Decision, e.Reason = int64(records), accesslog.Allowed, "incident register"
	return e
}

// actionEntry is the access-log entry of an action on incident i: every
// action leaves one, in the same transaction as the action itself.
func actionEntry(at time.Time, a Actor, i store.Incident, what string) *store.AccessEntry {
	return &store.AccessEntry{At: at, Actor: a.Name, AuthMethod: a.Method, CredentialID: a.Credential, Role: string(a.Role),
		Purpose: Purpose, Dataset: Dataset, Query: fmt.Sprintf("incident %d: %s", i.ID, what),
		Records: 1, Decision: accesslog.Allowed, Reason: "incident response"}
}

func appendEntries(ctx context.Context, tx store.Tx, es ...*store.AccessEntry) error {
	return tx.AppendAccessTx(ctx, es, func(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) })
}

// monitorActor is who the monitor acts as.
var monitorActor = Actor{Name: "steward breach monitor", Role: "", Method: "internal", Credential: "monitor"}

// recipients are the dataset's owner (the data owner, from the registry
// in force) and every incident manager, each once.
func (s *Service) recipients(ctx context.Context, dataset string) (owner string, managers []string, err error) {
	if reg := s.Registry.Current(); reg != nil && dataset != "" {
		if d := reg.Dataset(dataset); d != nil {
			owner = d.Owner
		}
	}
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return "", nil, err
	}
	managers = append(managers, s.ManagerEmails...)
	for _, u := range users {
		if u.Role == string(auth.IncidentManager) && u.DisabledAt.IsZero() {
			managers = append(managers, u.Email)
		}
	}
	slices.Sort(managers)
	managers = slices.Compact(managers)
	managers = slices.DeleteFunc(managers, func(m string) bool { return m == owner })
	return owner, managers, nil
}

func (s *Service) link(id int64) string {
	return strings.TrimSuffix(s.PublicURL, "/") + fmt.Sprintf("/admin/incidents/%d", id)
}

// detectionMessages tell the owner and the managers of a new incident.
func (s *Service) detectionMessages(i store.Incident, owner string, managers []string) []store.OutboxMessage {
	subject := fmt.Sprintf("[steward] Possible personal data breach: incident %d", i.ID)
	body := fmt.Sprintf("steward opened incident %d: %s\n\n%s\n\nFirst offending access (t_l): %s\nsteward became aware: %s\n\n"+
		"The supervisory authority must be told within 72 hours of awareness unless the breach is unlikely to result in a risk to people (GDPR Art. 33).\n\n%s\n",
		i.ID, i.Title, i.Summary, stamp(i.LeakAt), stamp(i.AwareAt), s.link(i.ID))
	var out []store.OutboxMessage
	for _, to := range append([]string{owner}, managers...) {
		if to == "" {
			continue
		}
		out = append(out, store.OutboxMessage{Kind: store.OutboxEmail, To: to, Subject: subject, Body: body,
			Ref: fmt.Sprintf("incident:%d", i.ID), CreatedAt: s.now()})
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "not known yet"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// OpenInput is an incident a person reports: a lost laptop, a
// misdirected e-mail.
type OpenInput struct {
	Title   string
	Summary string
	Dataset string
	// LeakAt is when the breach began, if known.
	LeakAt time.Time
	// AwareAt defaults to now.
	AwareAt time.Time
}

// OpenByHand stores a reported incident and tells the owner and managers.
func (s *Service) OpenByHand(ctx context.Context, a Actor, in OpenInput) (store.Incident, error) {
	if !slices.Contains(Managers, a.Role) {
		return store.Incident{}, fmt.Errorf("%w: role %s may not open incidents", ErrForbidden, a.Role)
	}
	in.Title, in.Summary = strings.TrimSpace(in.Title), strings.TrimSpace(in.Summary)
	now := s.now()
	switch {
	case in.Title == "":
		return store.Incident{}, invalid("title: say in a few words what happened")
	case len(in.Title) > 200:
		return store.Incident{}, invalid("title: at most 200 characters")
	case len(in.Summary) > 20000:
		return store.Incident{}, invalid("summary: at most 20000 characters")
	case !in.LeakAt.IsZero() && in.LeakAt.After(now):
		return store.Incident{}, invalid("leak_at: the breach cannot begin in the future")
	case !in.AwareAt.IsZero() && in.AwareAt.After(now):
		return store.Incident{}, invalid("aware_at: awareness cannot be in the future")
	case !in.AwareAt.IsZero() && !in.LeakAt.IsZero() && in.AwareAt.Before(in.LeakAt):
		return store.Incident{}, invalid("aware_at: awareness cannot come before the breach began")
	}
	if in.Dataset != "" && (s.Registry.Current() == nil || s.Registry.Current().Dataset(in.Dataset) == nil) {
		return store.Incident{}, invalid("dataset: no dataset %q in the registry in force", in.Dataset)
	}
	if in.AwareAt.IsZero() {
		in.AwareAt = now
	}
	owner, managers, err := s.recipients(ctx, in.Dataset)
	if err != nil {
		return store.Incident{}, err
	}
	m := s.machine()
	inc := store.Incident{Title: in.Title, Summary: in.Summary, Source: SourceManual, State: string(Detected), Dataset: in.Dataset,
		LeakAt: in.LeakAt.UTC(), AwareAt: in.AwareAt.UTC(), OpenedBy: a.Name}
	var msgs int
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if inc, _, err = m.CreateIn(ctx, tx, inc, a.Name, "reported by "+a.Name); err != nil {
			return err
		}
		out := s.detectionMessages(inc, owner, managers)
		msgs = len(out)
		if msgs > 0 {
			inc.OwnerNotifiedAt = now
			if inc, _, err = m.NoteIn(ctx, tx, inc, "system", notifiedNote(owner, managers, now)); err != nil {
				return err
			}
		}
		if err := tx.EnqueueOutbox(ctx, out); err != nil {
			return err
		}
		return appendEntries(ctx, tx, actionEntry(now, a, inc, "opened by hand"), actionEntry(now, monitorActor, inc, notifiedNote(owner, managers, now)))
	})
	if err != nil {
		return store.Incident{}, err
	}
	if msgs > 0 && s.Wake != nil {
		s.Wake()
	}
	return inc, nil
}

func notifiedNote(owner string, managers []string, at time.Time) string {
	who := slices.DeleteFunc(append([]string{owner}, managers...), func(s string) bool { return s == "" })
	if len(who) == 0 {
		return "nobody to notify: no dataset owner and no incident manager is known (t_n not set)"
	}
	return fmt.Sprintf("notified %s at %s (t_n)", strings.Join(who, ", "), stamp(at))
}

// ActInput is a person's action on an incident.
type ActInput struct {
	Action workflow.Action
	// Note is what was done or decided and why; closing from assessment,
	// dismissing and a high-risk decision need one.
	Note string
	// Version, when non-zero, is the version the person read: a change in
	// between is a conflict rather than a silent overwrite.
	Version int64
}

// Act applies a person's action.
func (s *Service) Act(ctx context.Context, id int64, a Actor, in ActInput) (store.Incident, error) {
	if !slices.Contains(Managers, a.Role) {
		return store.Incident{}, fmt.Errorf("%w: role %s may not act on incidents", ErrForbidden, a.Role)
	}
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return inc, err
	}
	if in.Version != 0 && in.Version != inc.Version {
		return inc, store.ErrConflict
	}
	in.Note = strings.TrimSpace(in.Note)
	if len(in.Note) > 20000 {
		return inc, invalid("note: at most 20000 characters")
	}
	now := s.now()
	needsReason := in.Action == Dismiss || in.Action == HighRisk || (in.Action == Close && inc.State == string(Assessing))
	if needsReason && in.Note == "" {
		return inc, invalid("note: %s needs the reasoning, which the register keeps (Art. 33(5))", in.Action)
	}
	m := s.machine()
	also := func(ctx context.Context, tx store.Tx, i *store.Incident) error {
		switch in.Action {
		case NotifyAuthority:
			i.AuthorityNotifiedAt = now
		case NotifySubjects:
			i.SubjectsNotifiedAt = now
		}
		if needsReason {
			i.Reasoning = in.Note
		}
		return appendEntries(ctx, tx, actionEntry(now, a, *i, string(in.Action)))
	}
	if in.Action == HighRisk && Lifecycle.Final(workflow.State(inc.State)) {
		return inc, fmt.Errorf("%w: incident %d is %s; a high-risk decision belongs to an incident still being worked", workflow.ErrRefused, inc.ID, inc.State)
	}
	if in.Action == HighRisk {
		if inc.HighRiskAt.IsZero() {
			inc.HighRiskAt = now
		}
		return m.NoteAlso(ctx, inc, a.Name, "decided high risk to people (Art. 34): "+in.Note, also)
	}
	if in.Action == "note" {
		if in.Note == "" {
			return inc, invalid("note: write what was done or found")
		}
		return m.NoteAlso(ctx, inc, a.Name, in.Note, also)
	}
	if !slices.Contains(Lifecycle.Actions(workflow.State(inc.State)), in.Action) {
		_, err := Lifecycle.Next(workflow.State(inc.State), in.Action)
		return inc, err
	}
	return m.FireAlso(ctx, inc, in.Action, a.Name, in.Note, also)
}
