package rights

import (
	"context"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// Store is what the request service needs of steward's store: the reads
// it makes and the transaction every change of a request commits in.
// store.Store has it all; naming only these keeps the service's reach (and
// what a test must provide) small.
type Store interface {
	store.Transactor
	GetRequest(ctx context.Context, id string) (store.Request, error)
	RequestBySubject(ctx context.Context, subjectKey, typ string) (store.Request, error)
	ListRequests(ctx context.Context, f store.RequestFilter) ([]store.Request, int, error)
	CountRequests(ctx context.Context, open []string, now, soon time.Time) (store.RequestCounts, error)
	RequestFlows(ctx context.Context, closed []string, origin time.Time, period time.Duration) ([]store.RequestFlow, error)
	RequestCompletions(ctx context.Context, status string, since time.Time) ([]store.RequestCompletion, error)
	RequestsInStatus(ctx context.Context, status string, before time.Time) ([]store.Request, error)
	RequestHistory(ctx context.Context, id string) ([]store.RequestEvent, error)
	// Steps are written outside transitions: each records a connector's
	// work as soon as it is done, whatever happens to the request next.
	SaveStep(ctx context.Context, s store.RequestStep) error
	RequestSteps(ctx context.Context, id string) ([]store.RequestStep, error)
	ListOutbox(ctx context.Context, refPrefix string, limit int) ([]store.OutboxMessage, error)
}
