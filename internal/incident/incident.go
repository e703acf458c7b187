// Package incident is steward's breach engine: the monitor that checks
// every access-log entry once, in order, against the policy in force when
// the access happened; incidents on the workflow core with their clocks;
// and the notices those clocks cause. docs/breach.md has the outline.
package incident

import (
	"errors"
	"fmt"
	"slices"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/workflow"
)

// States of an incident.
const (
	Detected          workflow.State = "detected"
	Assessing         workflow.State = "assessing"
	NotifiedAuthority workflow.State = "notified_authority"
	NotifiedSubjects  workflow.State = "notified_subjects"
	Closed            workflow.State = "closed"
	NotABreach        workflow.State = "not_a_breach"
)

// Actions people take.
const (
	Assess          workflow.Action = "assess"
	NotifyAuthority workflow.Action = "notify_authority"
	NotifySubjects  workflow.Action = "notify_subjects"
	Close           workflow.Action = "close"
	Dismiss         workflow.Action = "dismiss"
	// HighRisk is a decision that keeps the state: the breach is likely
	// to result in a high risk to people, so Art. 34 applies and the
	// people's clock starts.
	HighRisk workflow.Action = "decide_high_risk"
)

// Lifecycle is the incident's table. Notifying the authority is skipped
// when a person closes from assessing with the reasoning that the breach
// is unlikely to result in a risk (Art. 33(1)); the people are told only
// when the risk is high (Art. 34).
var Lifecycle = workflow.MustTable("incident",
	[]workflow.State{Detected, Assessing, NotifiedAuthority, NotifiedSubjects, Closed, NotABreach},
	workflow.Transition{Action: Assess, From: Detected, To: Assessing},
	workflow.Transition{Action: NotifyAuthority, From: Assessing, To: NotifiedAuthority},
	workflow.Transition{Action: NotifySubjects, From: Assessing, To: NotifiedSubjects},
	workflow.Transition{Action: NotifySubjects, From: NotifiedAuthority, To: NotifiedSubjects},
	workflow.Transition{Action: Close, From: Assessing, To: Closed},
	workflow.Transition{Action: Close, From: NotifiedAuthority, To: Closed},
	workflow.Transition{Action: Close, From: NotifiedSubjects, To: Closed},
	workflow.Transition{Action: Dismiss, From: Detected, To: NotABreach},
	workflow.Transition{Action: Dismiss, From: Assessing, To: NotABreach},
)

// Open lists the states in which an incident is still being worked: new
// findings of the same cause join it rather than open another.
var Open = []string{string(Detected), string(Assessing), string(NotifiedAuthority), string(NotifiedSubjects)}

// Sources of incidents.
const (
	SourcePolicy    = "policy"    // an access the policy in force would not allow
	SourceIntegrity = "integrity" // the access log's chain does not hold
	SourceUnusual   = "unusual"   // a credential reading far more than usual
	SourceManual    = "manual"    // opened by a person
)

// Sources lists every source, for filters.
var Sources = []string{SourcePolicy, SourceIntegrity, SourceUnusual, SourceManual}

// FilterStates reads a list's state filter: "" is every state, "open"
// those still being worked (Open), else one state; false for a word that
// is none of these.
func FilterStates(state string) ([]string, bool) {
	switch {
	case state == "":
		return nil, true
	case state == "open":
		return Open, true
	case Lifecycle.Has(workflow.State(state)):
		return []string{state}, true
	}
	return nil, false
}

// FilterSource: "" (every source) or one of Sources.
func FilterSource(source string) bool { return source == "" || slices.Contains(Sources, source) }

// Managers are the roles that run incidents. steward has no dpo role: a
// DPO signs in as an auditor, who reads incidents and the register but
// does not act (docs/roles.md).
var (
	Managers = []auth.Role{auth.IncidentManager}
	Readers  = []auth.Role{auth.IncidentManager, auth.Auditor}
)

// Errors a caller maps to its answer.
var (
	ErrInvalid   = errors.New("invalid")
	ErrForbidden = errors.New("forbidden")
)

func invalid(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(f, a...)) }
