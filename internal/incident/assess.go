package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Adjustment is a person's value for one ENISA factor, with the reason
// the register keeps.
type Adjustment struct {
	Value  *float64 `json:"value"`
	Reason string   `json:"reason"`
}

// Decision is whether Art. 33 and Art. 34 apply, as a person decides it,
// with the reasoning. Both answers are required: a missing one would
// silently read as "does not apply".
type Decision struct {
	Art33     *bool  `json:"art33"`
	Art34     *bool  `json:"art34"`
	Reasoning string `json:"reasoning"`
}

// AssessInput is a person's assessment of severity: any factor adjusted,
// and optionally the decision. Version, when non-zero, is the incident's
// version the person read (a change in between is a conflict).
type AssessInput struct {
	DPC             *Adjustment `json:"dpc,omitempty"`
	EI              *Adjustment `json:"ei,omitempty"`
	Confidentiality *Adjustment `json:"confidentiality,omitempty"`
	Integrity       *Adjustment `json:"integrity,omitempty"`
	Availability    *Adjustment `json:"availability,omitempty"`
	Malicious       *Adjustment `json:"malicious,omitempty"`
	Decision        *Decision   `json:"decision,omitempty"`
	Version         int64       `json:"version"`
}

func (in AssessInput) adjustment(name string) *Adjustment {
	switch name {
	case "dpc":
		return in.DPC
	case "ei":
		return in.EI
	case "confidentiality":
		return in.Confidentiality
	case "integrity":
		return in.Integrity
	case "availability":
		return in.Availability
	case "malicious":
		return in.Malicious
	}
	return nil
}

const maxReason = 20000

// check refuses input that is off the scales or lacks a reason, naming
// the field, before anything is read or written.
func (in *AssessInput) check() error {
	for _, name := range factorNames {
		a := in.adjustment(name)
		if a == nil {
			continue
		}
		a.Reason = strings.TrimSpace(a.Reason)
		switch {
		case a.Value == nil:
			return invalid("%s.value: give the value, one of %s", name, scaleWords[name])
		case !slices.Contains(Scales[name], *a.Value):
			return invalid("%s.value: %s is not on ENISA's scale; one of %s", name, num(*a.Value), scaleWords[name])
		case a.Reason == "":
			return invalid("%s.reason: an adjustment needs its reason, which the register keeps", name)
		case len(a.Reason) > maxReason:
			return invalid("%s.reason: at most %d characters", name, maxReason)
		}
	}
	if d := in.Decision; d != nil {
		d.Reasoning = strings.TrimSpace(d.Reasoning)
		switch {
		case d.Art33 == nil:
			return invalid("decision.art33: say whether the supervisory authority must be notified (true or false)")
		case d.Art34 == nil:
			return invalid("decision.art34: say whether the people affected must be told (true or false)")
		case *d.Art34 && !*d.Art33:
			return invalid("decision.art33: a breach likely to result in a high risk to people (Art. 34) is one that results in a risk (Art. 33): the authority must be notified too")
		case d.Reasoning == "":
			return invalid("decision.reasoning: a decision needs its reasoning, which the register keeps (Art. 33(5))")
		case len(d.Reasoning) > maxReason:
			return invalid("decision.reasoning: at most %d characters", maxReason)
		}
	}
	return nil
}

// Assess stores a person's assessment of severity: steward's pre-score
// (following the blast radius as it now stands) with the person's
// adjustments, and the decision on Art. 33 and 34 when given. A decision
// that Art. 34 applies starts the people's clock (HighRiskAt); one that
// Art. 33 does not apply, or that Art. 34 does, puts the reasoning on the
// incident, which the register keeps (Art. 33(5)). The history line and
// the access-log entry commit with it.
func (s *Service) Assess(ctx context.Context, id int64, a Actor, in AssessInput) (store.Incident, error) {
	if !slices.Contains(Managers, a.Role) {
		return store.Incident{}, fmt.Errorf("%w: role %s may not assess incidents", ErrForbidden, a.Role)
	}
	if err := in.check(); err != nil {
		return store.Incident{}, err
	}
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return inc, err
	}
	if in.Version != 0 && in.Version != inc.Version {
		return inc, store.ErrConflict
	}
	if Lifecycle.Final(workflow.State(inc.State)) {
		return inc, &workflow.RefusedError{Entity: "incident", From: workflow.State(inc.State), Action: "assess_severity", Known: true}
	}
	now := s.now()
	b, ok := BlastOf(inc)
	sev, stored := SeverityOf(inc)
	if stored {
		sev = Reprice(sev, inc, b, ok)
	} else {
		sev = PreScore(inc, b, ok)
	}
	var notes []string
	for _, name := range factorNames {
		adj := in.adjustment(name)
		if adj == nil {
			continue
		}
		f := sev.factor(name)
		notes = append(notes, fmt.Sprintf("%s %s → %s (%s)", name, num(f.Value), num(*adj.Value), adj.Reason))
		f.Value, f.Adjusted, f.Reason, f.AdjustedBy = *adj.Value, true, adj.Reason, a.Name
	}
	sev.Rescore()
	sev.AssessedBy, sev.AssessedAt = a.Name, now
	note := "severity assessed"
	if len(notes) > 0 {
		note += ": " + strings.Join(notes, "; ")
	} else if in.Decision == nil {
		note += ": the pre-score confirmed"
	}
	note += "; " + sev.Summary()
	if d := in.Decision; d != nil {
		sev.Decided = &Applicability{Art33: *d.Art33, Art34: *d.Art34}
		sev.DecidedBy, sev.DecidedAt, sev.Reasoning = a.Name, now, d.Reasoning
		note += "; decided " + applies(*sev.Decided) + ": " + d.Reasoning
		if *d.Art34 && inc.HighRiskAt.IsZero() {
			inc.HighRiskAt = now // the people's clock (Art. 34) starts here
		}
		if !*d.Art34 && !inc.HighRiskAt.IsZero() && inc.SubjectsNotifiedAt.IsZero() {
			// The earlier high-risk decision is withdrawn: its clock
			// stops, and the history keeps when it had been made.
			note += fmt.Sprintf(" (withdraws the high-risk decision of %s)", stamp(inc.HighRiskAt))
			inc.HighRiskAt = time.Time{}
		}
		if !*d.Art33 || *d.Art34 {
			inc.Reasoning = d.Reasoning
		}
	}
	raw, err := json.Marshal(sev)
	if err != nil {
		return inc, err
	}
	inc.Severity = raw
	what := "severity assessed: " + sev.Level
	if sev.Decided != nil {
		what += ", " + applies(*sev.Decided)
	}
	return s.machine().NoteAlso(ctx, inc, a.Name, note, func(ctx context.Context, tx store.Tx, i *store.Incident) error {
		return appendEntries(ctx, tx, actionEntry(now, a, *i, what))
	})
}
