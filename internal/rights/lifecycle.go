// Package rights answers data subject requests: intake from the web form,
// the app and Facebook, e-mail verification, the lifecycle every request
// follows, statutory deadlines, execution across the systems that hold the
// data, and the signed receipt of an erasure.
package rights

import "fmt"

// Status is where a request stands.
type Status string

// Statuses, as in DESIGN.md.
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

// transitions is the lifecycle, in one place: nothing else changes a
// request's status.
var transitions = map[Status]map[Action]Status{
	WaitingForEmail: {Confirm: Received, Reject: Rejected},
	Received:        {Take: InProgress, Reject: Rejected},
	InProgress:      {Ask: WaitingForUser, Complete: Done, Reject: Rejected},
	WaitingForUser:  {Answer: InProgress, Reject: Rejected},
}

// Next returns the status action leads to from s, or an error naming why
// it cannot.
func Next(s Status, a Action) (Status, error) {
	to, ok := transitions[s][a]
	if !ok {
		return "", fmt.Errorf("a request that is %s cannot be %s", s.Words(), a.pastTense())
	}
	return to, nil
}

// Open reports whether a request in s may still change.
func (s Status) Open() bool { return s != Done && s != Rejected }

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
