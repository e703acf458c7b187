package rights

import "context"

// Subject is whom a request is about, as the connectors need it.
type Subject struct {
	RequestID string
	Email     string
	AccountID string
	AppUserID string
	// FacebookUserID is set for requests from Facebook's callback.
	FacebookUserID string
	// GleanClientID is set for a Glean deletion-request ping; only a
	// connector that implements GleanConnector is given such a request.
	GleanClientID string
}

// GleanConnector marks a connector that can find a subject by a Glean
// client id (steward's own events). Other systems know nobody by it, so a
// Glean request skips them.
type GleanConnector interface{ GleanClientIDs() bool }

// Result is what one connector did in one phase.
type Result struct {
	// Count is how many records (rows, events) the step touched.
	Count int64
	// Detail says what was done, in words for the receipt.
	Detail string
	// Pending: the system accepted the work and will report completion
	// through its callback; the step waits without failing.
	Pending bool
}

// Table is one table (or kind of record) of an access export.
type Table struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Connector is one system that holds personal data. Every method is
// idempotent: running a step again after a crash does no harm.
type Connector interface {
	Name() string
	// Deactivate makes the subject's data unusable at once (an account
	// is switched off); connectors with nothing to deactivate say so.
	Deactivate(ctx context.Context, s Subject) (Result, error)
	// Purge removes the subject's data for good.
	Purge(ctx context.Context, s Subject) (Result, error)
	// Export gathers what the system holds about the subject.
	Export(ctx context.Context, s Subject) ([]Table, error)
	// Check tests the configuration and reach before any request needs it.
	Check(ctx context.Context) error
}
