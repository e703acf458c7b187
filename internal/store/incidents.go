package store

import (
	"context"
	"time"
)

// Incident is a suspected or confirmed personal data breach. internal/incident
// owns the rules; this is what is kept.
type Incident struct {
	ID    int64
	Title string
	// Source says how it was found: policy, integrity, unusual (the
	// monitor) or manual (a person).
	Source string
	// GroupKey joins the monitor's findings of one cause (one credential
	// outside policy, one break of the chain) into one open incident; ""
	// for an incident opened by hand.
	GroupKey string
	State    string
	// Credential and Dataset are what the finding was about ("" when not
	// known or not one).
	Credential string
	Dataset    string
	Summary    string
	// LeakAt is t_l: the first offending access, or a time a person gave.
	LeakAt time.Time
	// AwareAt is when steward (or the person) became aware: the clock of
	// Art. 33(1) starts here.
	AwareAt time.Time
	// OwnerNotifiedAt is t_n: the data owner and incident manager were
	// told (the outbox messages were committed).
	OwnerNotifiedAt     time.Time
	AuthorityNotifiedAt time.Time
	SubjectsNotifiedAt  time.Time
	// HighRiskAt is when a person decided the breach is likely to result
	// in a high risk to people (Art. 34); zero while not decided so.
	HighRiskAt time.Time
	// Reasoning is the last decision's reasons (not a breach, no
	// notification needed, closed).
	Reasoning string
	// WindowFrom and WindowTo are the time window the blast radius covers
	// ([from, to)); zero until one is set or derived.
	WindowFrom, WindowTo time.Time
	// Blast and Severity are the assessment, JSON owned by package
	// incident (BlastRadius, Severity); nil until computed.
	Blast, Severity []byte
	// Consequences and Measures are the likely consequences and the
	// measures taken or proposed (Art. 33(3)(c), (d)), as people write them.
	Consequences, Measures string
	// Accesses counts the offending access-log entries attached.
	Accesses  int64
	OpenedBy  string
	CreatedAt time.Time
	UpdatedAt time.Time
	StateAt   time.Time
	Version   int64
}

// IncidentEvent is one line of an incident's history.
type IncidentEvent struct {
	IncidentID int64
	At         time.Time
	Actor      string
	Action     string
	From, To   string
	Note       string
}

// IncidentAccess ties one offending access-log entry to the one incident
// it belongs to.
type IncidentAccess struct {
	IncidentID int64
	Seq        int64
	At         time.Time
	Reason     string
}

// IncidentQuery filters the list; zero values match everything.
type IncidentQuery struct {
	States []string
	Source string
	Limit  int
	Before int64 // ID < Before when > 0 (newest first)
}

// MonitorPosition is where a monitor stands in the access log: the last
// entry it checked, that entry's hash (to check the next one links to it)
// and its own state (baselines), all written in the transaction that acts
// on what it found.
// The pgaudit tailer keeps a row of its own (name "pgaudit"): its Seq
// counts its moves and its State is the log file and offset it has read
// to (internal/pgaudit).
type MonitorPosition struct {
	Name      string
	Seq       int64
	Hash      []byte
	Checked   int64
	State     []byte // JSON, the monitor's
	UpdatedAt time.Time
}

// Incidents keeps breach incidents and the monitor's position.
type Incidents interface {
	// GetIncident returns ErrNotFound for an unknown id.
	GetIncident(ctx context.Context, id int64) (Incident, error)
	// ListIncidents returns matching incidents, newest first.
	ListIncidents(ctx context.Context, q IncidentQuery) ([]Incident, error)
	IncidentHistory(ctx context.Context, id int64) ([]IncidentEvent, error)
	// IncidentAccesses returns the entries attached to an incident, in
	// Seq order, up to limit.
	IncidentAccesses(ctx context.Context, id int64, limit int) ([]IncidentAccess, error)
	// GetMonitorPosition returns a zero position (Seq 0) for a monitor
	// that has not run.
	GetMonitorPosition(ctx context.Context, name string) (MonitorPosition, error)
	// TakeLease makes holder the one that runs name until now+ttl, when
	// nobody holds it or the lease has run out or holder already holds it,
	// and reports whether holder holds it now. Nodes sharing a database
	// call it before each round; only one wins.
	TakeLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
}

// IncidentTx is what the monitor and an incident's change of state write
// in one transaction.
type IncidentTx interface {
	// CreateIncident assigns i.ID.
	CreateIncident(ctx context.Context, i *Incident) error
	// UpdateIncident stores i if its stored version is still i.Version
	// (else ErrConflict) and advances i.Version.
	UpdateIncident(ctx context.Context, i *Incident) error
	AppendIncidentEvent(ctx context.Context, ev IncidentEvent) error
	// OpenIncidentByGroup returns the newest incident with this group key
	// in one of states, or ErrNotFound.
	OpenIncidentByGroup(ctx context.Context, key string, states []string) (Incident, error)
	// AddIncidentAccesses attaches entries; ErrConflict when one of the
	// Seqs already belongs to an incident (each access belongs to one).
	AddIncidentAccesses(ctx context.Context, as []IncidentAccess) error
	// AdvanceMonitor stores p if the stored position is still at fromSeq
	// and holder still holds the lease named p.Name at p.UpdatedAt (else
	// ErrConflict: another node took over, and this round must not count).
	AdvanceMonitor(ctx context.Context, p MonitorPosition, fromSeq int64, holder string) error
	// MarkIncidentNotice records that notice key (a deadline warning, an
	// escalation) went out for incident id; false when it already had.
	MarkIncidentNotice(ctx context.Context, id int64, key string, at time.Time) (bool, error)
	// AppendAccessTx is AccessLog.AppendAccess inside this transaction, so
	// an incident's action and its access-log entry commit together.
	AppendAccessTx(ctx context.Context, entries []*AccessEntry, seal func(e *AccessEntry, prevHash []byte)) error
}
