// Package rights answers data subject requests: intake from the web form,
// the app and Facebook, e-mail verification, the lifecycle every request
// follows, statutory deadlines, execution across the systems that hold the
// data, and the signed receipt of an erasure.
package rights

import (
	"fmt"

	"github.com/steward-privacy/steward/internal/workflow"
)

// Status is where a request stands.
type Status string

// Statuses, as in docs/requests.md ("Lifecycle").
const (
	WaitingForEmail Status = "waiting_for_email_confirmation"
	Received        Status = "received"
	InProgress      Status = "in_progress"
	WaitingForUser  Status = "waiting_for_user_response"
	Done            Status = "done"
	Rejected        Status = "rejected"
)

// Action moves a request from one status to another.
type Action string

// Actions.
const (
	Confirm  Action = "confirm"  // the person followed the e-mailed link
	Take     Action = "take"     // support starts work
	Ask      Action = "ask"      // support asks the person a question
	Answer   Action = "answer"   // the person answers
	Complete Action = "complete" // execution finished
	Reject   Action = "reject"   // support, a timeout or a failed identity check
)

// lifecycle is the request lifecycle, in one place: nothing else changes
// a request's status.
var lifecycle = workflow.MustTable("request",
	[]workflow.State{state(WaitingForEmail), state(Received), state(InProgress), state(WaitingForUser), state(Done), state(Rejected)},
	move(Confirm, WaitingForEmail, Received), move(Reject, WaitingForEmail, Rejected),
	move(Take, Received, InProgress), move(Reject, Received, Rejected),
	move(Ask, InProgress, WaitingForUser), move(Complete, InProgress, Done), move(Reject, InProgress, Rejected),
	move(Answer, WaitingForUser, InProgress), move(Reject, WaitingForUser, Rejected),
)

func state(s Status) workflow.State { return workflow.State(s) }

func move(a Action, from, to Status) workflow.Transition {
	return workflow.Transition{Action: workflow.Action(a), From: state(from), To: state(to)}
}

// Next returns the status action leads to from s, or an error naming why
// it cannot: in words for the person, with the table's
// *workflow.RefusedError underneath.
func Next(s Status, a Action) (Status, error) {
	to, err := lifecycle.Next(state(s), workflow.Action(a))
	if err != nil {
		return "", &refusal{s, a, err}
	}
	return Status(to), nil
}

type refusal struct {
	s   Status
	a   Action
	err error
}

func (r *refusal) Error() string {
	return fmt.Sprintf("a request that is %s cannot be %s", r.s.Words(), r.a.pastTense())
}

func (r *refusal) Unwrap() error { return r.err }

// Open reports whether a request in s may still change.
func (s Status) Open() bool { return !lifecycle.Final(state(s)) }

// Words says the status in plain language for pages and e-mails.
func (s Status) Words() string {
	switch s {
	case WaitingForEmail:
		return "waiting for you to confirm your e-mail address"
	case Received:
		return "received, waiting for our team"
	case InProgress:
		return "in progress"
	case WaitingForUser:
		return "waiting for your answer to our question"
	case Done:
		return "done"
	case Rejected:
		return "closed without action"
	}
	return string(s)
}

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{WaitingForEmail, Received, InProgress, WaitingForUser, Done, Rejected}
}

// Label names the status for staff, short enough for a table cell.
func (s Status) Label() string {
	switch s {
	case WaitingForEmail:
		return "Awaiting confirmation"
	case Received:
		return "Received"
	case InProgress:
		return "In progress"
	case WaitingForUser:
		return "Waiting for the person"
	case Done:
		return "Done"
	case Rejected:
		return "Rejected"
	case "":
		return "—"
	}
	return string(s)
}

func (a Action) pastTense() string {
	switch a {
	case Confirm:
		return "confirmed"
	case Take:
		return "taken"
	case Ask:
		return "asked a question"
	case Answer:
		return "answered"
	case Complete:
		return "completed"
	case Reject:
		return "rejected"
	}
	return string(a)
}
