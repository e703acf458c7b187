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
	// Attempts is how many calls to the system the step made, retries
	// included; zero means one. A connector returns it with its error too,
	// so a failed step counts every try.
	Attempts int
}

// Table is one table (or kind of record) of an access export.
type Table struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Export is what one system holds about the subject.
type Export struct {
	Tables []Table
	// Attempts is as in Result.
	Attempts int
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
	Export(ctx context.Context, s Subject) (Export, error)
	// Check tests the configuration and reach before any request needs it.
	Check(ctx context.Context) error
}

// Labelled is a connector with words for people: pages and receipts name
// the system by its label ("Your account in the Example app") rather than
// by its connector's name, which is steward's own.
type Labelled interface {
	Label() string
}

// Label is how pages for the person name a system: its connector's label,
// or the connector's name when it has none (`steward connectors check`
// says so).
func (s *Service) Label(system string) string {
	for _, c := range s.Connectors {
		if c.Name() != system {
			continue
		}
		if l, ok := c.(Labelled); ok && l.Label() != "" {
			return l.Label()
		}
		break
	}
	return system
}
