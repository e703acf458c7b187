package store

import (
	"context"
	"strings"
	"time"
)

// BlastQuery selects what a breach reached in the access log: the allowed
// entries of one credential, of one dataset, or of a credential in one
// dataset, with At in [From, To). Denied entries are left out: access
// control refused them, so they returned no data and reached no one.
type BlastQuery struct {
	// Credential is named as the breach monitor names it: "method:id"
	// for an entry with a credential id, "method:actor" for one without
	// (a database role, an account signing in without a session id).
	Credential string
	Dataset    string
	From, To   time.Time
	// KeysCap bounds SubjectKeys; the counts are exact either way.
	KeysCap int
}

// EventBlastQuery selects what the event store held of one dataset, for
// a breach of the store itself: the events received in [From, To) that
// are still stored (retention and erasure have removed the others, which
// the store therefore no longer knows of).
type EventBlastQuery struct {
	Dataset  string
	From, To time.Time
	KeysCap  int
}

// BlastCount is what a breach reached in one dataset.
type BlastCount struct {
	Dataset string
	// Entries are the access-log entries (0 for the event store);
	// Records the records they returned (the events held, for the event
	// store); Subjects the distinct subject keys.
	Entries, Records, Subjects int64
	// First and Last are the earliest and latest time matched (At of an
	// entry, ReceivedAt of an event), so the caller can read the registry
	// versions in force over them.
	First, Last time.Time
}

// BlastResult is a blast radius as the store counts it.
type BlastResult struct {
	Entries, Records int64
	// Subjects counts distinct subject keys across every dataset (one
	// person reached in two datasets counts once).
	Subjects int64
	// Datasets are by name, ascending.
	Datasets []BlastCount
	// SubjectKeys are the distinct keys, ascending, at most KeysCap;
	// KeysTruncated when there were more.
	SubjectKeys   []string
	KeysTruncated bool
}

// BlastRadii counts what a breach reached.
type BlastRadii interface {
	// BlastRadius counts q's allowed access-log entries, their records
	// and distinct subjects, per dataset and in all.
	BlastRadius(ctx context.Context, q BlastQuery) (BlastResult, error)
	// EventBlastRadius counts the events q's dataset holds and their
	// distinct subjects.
	EventBlastRadius(ctx context.Context, q EventBlastQuery) (BlastResult, error)
}

// SplitCredential parses the monitor's name of a credential into its
// method and the credential id or actor; ok is false when either is
// empty. The method never holds a colon; the rest may.
func SplitCredential(c string) (method, id string, ok bool) {
	method, id, found := strings.Cut(c, ":")
	return method, id, found && method != "" && id != ""
}
