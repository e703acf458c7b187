package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// Starts of an obligation's clock.
const (
	FromAware    = "aware_at"     // steward or a person became aware
	FromLeak     = "leak_at"      // t_l, the first offending access
	FromHighRisk = "high_risk_at" // a person decided the risk to people is high
)

// Obligation is one duty to notify within MaxNP of Start. Done reads
// when it was met from the incident (zero while not met).
type Obligation struct {
	Name  string
	Start string
	MaxNP time.Duration
	// Done is one of owner_notified, authority_notified, subjects_notified.
	Done string
}

// DefaultObligations: the supervisory authority within 72 hours of
// awareness (Art. 33(1)); the people without undue delay once the risk is
// decided high (Art. 34(1)), which steward counts as 72 hours so the
// clock shows. A controller this steward processes for adds its own
// contractual period from t_l (config: incident_obligations).
var DefaultObligations = []Obligation{
	{Name: "authority", Start: FromAware, MaxNP: 72 * time.Hour, Done: "authority_notified"},
	{Name: "subjects", Start: FromHighRisk, MaxNP: 72 * time.Hour, Done: "subjects_notified"},
}

// CheckObligations reports an obligation that cannot work.
func CheckObligations(os []Obligation) error {
	for _, o := range os {
		switch {
		case o.Name == "" || strings.ContainsAny(o.Name, ": "):
			return fmt.Errorf("incident obligation %q: a name is one word", o.Name)
		case o.Start != FromAware && o.Start != FromLeak && o.Start != FromHighRisk:
			return fmt.Errorf("incident obligation %s: start must be aware_at, leak_at or high_risk_at", o.Name)
		case o.MaxNP <= 0:
			return fmt.Errorf("incident obligation %s: max_np must be positive", o.Name)
		case o.Done != "owner_notified" && o.Done != "authority_notified" && o.Done != "subjects_notified":
			return fmt.Errorf("incident obligation %s: done must be owner_notified, authority_notified or subjects_notified", o.Name)
		}
	}
	return nil
}

// Clock is where one obligation stands for one incident.
type Clock struct {
	Obligation Obligation
	// Start is zero while the clock has not started (no high-risk
	// decision, t_l unknown).
	Start, Due time.Time
	// Met is when the duty was met; zero while not.
	Met time.Time
	// Left is Due - now for a running clock (negative once passed).
	Left time.Duration
	// Late: met after Due, or not met and Due has passed.
	Late bool
	// Moot: the incident ended without the duty arising (dismissed, or
	// closed with the reasoning that no notification was needed).
	Moot bool
}

func (s *Service) obligations() []Obligation {
	if s.Obligations == nil {
		return DefaultObligations
	}
	return s.Obligations
}

func (s *Service) warnings() []time.Duration {
	if s.Warnings == nil {
		return []time.Duration{24 * time.Hour, 6 * time.Hour}
	}
	return s.Warnings
}

// Clocks are an incident's obligations at now.
func (s *Service) Clocks(i store.Incident, now time.Time) []Clock {
	var out []Clock
	for _, o := range s.obligations() {
		c := Clock{Obligation: o}
		switch o.Start {
		case FromAware:
			c.Start = i.AwareAt
		case FromLeak:
			c.Start = i.LeakAt
		case FromHighRisk:
			c.Start = i.HighRiskAt
		}
		switch o.Done {
		case "owner_notified":
			c.Met = i.OwnerNotifiedAt
		case "authority_notified":
			c.Met = i.AuthorityNotifiedAt
		case "subjects_notified":
			c.Met = i.SubjectsNotifiedAt
		}
		ended := i.State == string(NotABreach) || i.State == string(Closed)
		if c.Start.IsZero() {
			c.Moot = ended
			out = append(out, c)
			continue
		}
		c.Due = c.Start.Add(o.MaxNP)
		switch {
		case !c.Met.IsZero():
			c.Late = c.Met.After(c.Due)
		case ended:
			c.Moot = true
		default:
			c.Left = c.Due.Sub(now)
			c.Late = c.Left < 0
		}
		out = append(out, c)
	}
	return out
}

// TickClocks warns the incident managers as each running deadline nears
// and escalates once it has passed (or was met late: t_n - t_l > max_np),
// each notice once per incident, in the transaction that records it in
// the incident's history. It is a workflow.Ticker job.
func (s *Service) TickClocks(ctx context.Context) error {
	open, err := s.Store.ListIncidents(ctx, store.IncidentQuery{States: Open, Limit: 10000})
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, i := range open {
		for _, c := range s.Clocks(i, now) {
			if c.Start.IsZero() || c.Moot {
				continue
			}
			if c.Late {
				errs = append(errs, s.notice(ctx, i, c.Obligation.Name+":escalated", escalation(i, c, now)))
				continue
			}
			if !c.Met.IsZero() {
				continue
			}
			for _, w := range s.warnings() {
				if c.Left <= w {
					errs = append(errs, s.notice(ctx, i, fmt.Sprintf("%s:%s", c.Obligation.Name, w), warning(i, c, w)))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func warning(i store.Incident, c Clock, w time.Duration) string {
	return fmt.Sprintf("incident %d: %s notification is due at %s; less than %s left", i.ID, c.Obligation.Name, stamp(c.Due), w)
}

func escalation(i store.Incident, c Clock, now time.Time) string {
	if !c.Met.IsZero() {
		return fmt.Sprintf("incident %d: %s notification was made at %s, %s after its deadline of %s (max %s from %s)",
			i.ID, c.Obligation.Name, stamp(c.Met), c.Met.Sub(c.Due).Round(time.Second), stamp(c.Due), c.Obligation.MaxNP, c.Obligation.Start)
	}
	return fmt.Sprintf("incident %d: %s notification is overdue: the deadline %s passed %s ago and it has not been made",
		i.ID, c.Obligation.Name, stamp(c.Due), now.Sub(c.Due).Round(time.Second))
}

// notice sends text to the managers once under key, noted in history.
func (s *Service) notice(ctx context.Context, i store.Incident, key, text string) error {
	_, managers, err := s.recipients(ctx, "")
	if err != nil {
		return err
	}
	now := s.now()
	m := s.machine()
	sent := false
	for range 3 {
		err = s.Store.InTx(ctx, func(tx store.Tx) error {
			first, err := tx.MarkIncidentNotice(ctx, i.ID, key, now)
			if err != nil || !first {
				return err
			}
			var out []store.OutboxMessage
			for _, to := range managers {
				out = append(out, store.OutboxMessage{Kind: store.OutboxEmail, To: to, Subject: "[steward] " + text,
					Body: text + "\n\n" + s.link(i.ID) + "\n", Ref: fmt.Sprintf("incident:%d", i.ID), CreatedAt: now})
			}
			if _, _, err := m.NoteIn(ctx, tx, i, "system", text); err != nil {
				return err
			}
			sent = len(out) > 0
			if err := tx.EnqueueOutbox(ctx, out); err != nil {
				return err
			}
			return appendEntries(ctx, tx, actionEntry(now, monitorActor, i, "notice "+key))
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		// Someone changed the incident since it was listed: read it again.
		if i, err = s.Store.GetIncident(ctx, i.ID); err != nil {
			return err
		}
	}
	if err == nil && sent && s.Wake != nil {
		s.Wake()
	}
	return err
}
