package store

import (
	"context"
	"time"
)

// Request is a data subject request (erasure or access). Its lifecycle
// lives in package rights; the store keeps it, its history and its steps.
type Request struct {
	// ID is public and random (it appears in URLs and e-mails); the status
	// token, of which only the hash is kept, is what grants a view.
	ID              string
	StatusTokenHash []byte
	Channel         string // web, app, facebook
	Type            string // erasure, access
	Status          string
	// Email is the address given (or resolved), lower-cased.
	Email          string
	AppUserID      string
	FacebookUserID string
	// GleanClientID is the Glean client id of a deletion-request ping
	// (channel glean); it is the credential, and only steward's own
	// events are searched by it.
	GleanClientID string
	// SubjectKey is the keyed hash of the subject's identity, under which
	// duplicates are found without storing another copy of the address.
	SubjectKey string
	// AccountID is the account the identity connector resolved.
	AccountID        string
	Law              string // gdpr, ccpa
	DueAt            time.Time
	ExtensionReason  string
	EmailConfirmedAt time.Time
	// ConfirmHash is the hash of the secret in the e-mailed confirmation
	// link; it is cleared once used.
	ConfirmHash      []byte
	ConfirmationCode string // given to Facebook; alphanumeric
	Question         string
	Answer           string
	RejectReason     string
	Assignee         string
	// GraceUntil: after deactivation, purge waits until then.
	GraceUntil      time.Time
	ExportPath      string
	ExportExpiresAt time.Time
	Receipt         string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// StatusAt is when the request entered its current status (timeouts
	// count from it).
	StatusAt time.Time
	// Version guards against two writers: an update must name the version
	// it read.
	Version int64
}

// RequestEvent is one entry of a request's history.
type RequestEvent struct {
	ID        int64
	RequestID string
	At        time.Time
	Actor     string // "user", "system", "facebook", or a staff name
	From, To  string // statuses; equal for a note without a transition
	Note      string
}

// RequestStep is one connector's work in one phase of execution.
type RequestStep struct {
	RequestID  string
	Connector  string
	Phase      string // deactivate, purge, export
	Status     string // done, failed
	Count      int64
	Detail     string
	Error      string
	Attempts   int
	StartedAt  time.Time
	FinishedAt time.Time
}

// RequestFilter selects requests for the portal. Empty fields do not
// filter; Search matches an id exactly or an e-mail by prefix.
type RequestFilter struct {
	Status, Type, Channel string
	// AnyStatus, when not empty, keeps requests in one of these statuses
	// (the open ones, say, with a filter by deadline).
	AnyStatus []string
	From, To  time.Time // CreatedAt in [From, To)
	// DueFrom and DueBefore select by deadline: DueAt in [DueFrom, DueBefore).
	DueFrom, DueBefore time.Time
	Search             string
	Offset, Limit      int
}

// RequestCounts is the portal's summary of every request.
type RequestCounts struct {
	ByStatus map[string]int
	// Overdue and DueSoon count the requests in the open statuses asked
	// for whose deadline has passed, and that fall due before soon.
	Overdue, DueSoon int
}

// RequestFlow is how many requests of one channel were opened (created)
// and closed (entered a final status) in the period starting at Start.
type RequestFlow struct {
	Start          time.Time
	Channel        string
	Opened, Closed int
}

// RequestCompletion counts the requests that took Days whole days from
// receipt to completion, and whether they finished after their deadline.
type RequestCompletion struct {
	Days  int
	Late  bool
	Count int
}

// Requests stores data subject requests. Creating and updating a request
// happen in a transaction (Tx), with its history and the messages the
// change causes.
type Requests interface {
	// GetRequest returns ErrNotFound for an unknown id.
	GetRequest(ctx context.Context, id string) (Request, error)
	// RequestBySubject returns the newest request of a type for a subject
	// key that is not rejected, or ErrNotFound.
	RequestBySubject(ctx context.Context, subjectKey, typ string) (Request, error)
	// ListRequests returns one page, newest first, and the total matching.
	// The page leaves out Receipt, which only a request's own page needs.
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, int, error)
	// CountRequests counts requests by status, and those in one of the
	// open statuses that are overdue at now or fall due before soon.
	CountRequests(ctx context.Context, open []string, now, soon time.Time) (RequestCounts, error)
	// RequestFlows counts, per channel and per period of the given length
	// from origin on, the requests created and those that entered one of
	// the closed statuses. Periods without any are left out.
	RequestFlows(ctx context.Context, closed []string, origin time.Time, period time.Duration) ([]RequestFlow, error)
	// RequestCompletions counts the requests that entered status since
	// then, by whole days from creation and by whether it was after DueAt.
	RequestCompletions(ctx context.Context, status string, since time.Time) ([]RequestCompletion, error)
	// RequestsInStatus returns requests that entered status before before.
	RequestsInStatus(ctx context.Context, status string, before time.Time) ([]Request, error)
	RequestHistory(ctx context.Context, id string) ([]RequestEvent, error)
	// SaveStep inserts or replaces the step of (RequestID, Connector, Phase).
	SaveStep(ctx context.Context, s RequestStep) error
	RequestSteps(ctx context.Context, id string) ([]RequestStep, error)
}
