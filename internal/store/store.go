// Package store defines what steward keeps and the errors its backends
// return. Backends live in sqlite/ and postgres/; storetest/ is the
// conformance suite every backend passes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors every backend maps its own failures onto.
var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the database cannot be reached or refused the write;
	// the caller may retry later. Never the client's fault.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrConflict: a unique constraint was violated.
	ErrConflict = errors.New("conflict")
	// ErrSchemaTooNew: the database has migrations this steward does not
	// know, so a newer steward has used it; running on would misread it.
	ErrSchemaTooNew = errors.New("database schema is newer than this steward")
)

// Store is everything steward persists.
type Store interface {
	Events
	Tokens
	Sweeps
	Settings
	AccessLog
	Requests
	Outbox
	Accounts
	RegistryVersions
	ErasedSubjects
	Reviews
	CollectionVolume
	Incidents
	BlastRadii
	Transactor

	// Backend names the backend ("sqlite" or "postgres").
	Backend() string
	// Migrate applies every pending migration in order, each with its
	// schema_migrations row in one transaction, and returns those it
	// applied now (none when the schema was up to date). Safe to run
	// concurrently from several processes. A database newer than this
	// steward is refused with ErrSchemaTooNew.
	Migrate(ctx context.Context) ([]Migration, error)
	// MigrationStatus lists every migration this steward knows, in order,
	// applied or pending; it changes nothing.
	MigrationStatus(ctx context.Context) ([]Migration, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Migration is one numbered schema migration (migrations/NNNN_name.sql
// in a backend's package; see docs/migrations.md).
type Migration struct {
	Version int
	Name    string // "initial" for 0001_initial.sql
	Applied bool
	// AppliedAt is when schema_migrations recorded it: zero while pending,
	// and for a baseline not yet recorded.
	AppliedAt time.Time
	// Baseline: the database was made before migrations were versioned, so
	// its schema already is this migration and it is (or will be) recorded
	// as applied without running.
	Baseline bool
}

// ID is the migration's file name without ".sql", e.g. "0001_initial".
func (m Migration) ID() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

// Transactor runs writes that must happen together.
type Transactor interface {
	// InTx runs fn in one transaction and commits it when fn returns nil.
	// When fn returns an error (returned as is, so errors.Is sees
	// ErrConflict) or panics, nothing fn wrote is kept. fn must write only
	// through tx: on SQLite the transaction holds the single writer
	// connection, so a write through the Store itself would wait forever.
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is the writes one change of state makes: the entity with its version
// check, its history entry and the messages it causes commit together or
// not at all, so no e-mail is promised for a change that did not happen.
type Tx interface {
	// CreateRequest stores a new request. It returns ErrConflict when a
	// request of the same type for the same SubjectKey exists that is not
	// rejected.
	CreateRequest(ctx context.Context, r Request) error
	// UpdateRequest stores r if the stored version is still r.Version
	// (else ErrConflict) and returns the new version.
	UpdateRequest(ctx context.Context, r Request) (int64, error)
	// AppendRequestEvent adds an entry to a request's history.
	AppendRequestEvent(ctx context.Context, ev RequestEvent) error
	// EnqueueOutbox stores messages for the outbox worker to send once
	// the transaction commits. A zero NextAttemptAt means due at
	// CreatedAt.
	EnqueueOutbox(ctx context.Context, msgs []OutboxMessage) error
	// AddAccessCheckpoint stores an access-log checkpoint (its ID is
	// assigned) and reports true, or stores nothing and reports false when
	// one of the same Seq exists (another node signed that head first), so
	// the caller enqueues its witness copy only for a checkpoint it added.
	AddAccessCheckpoint(ctx context.Context, c AccessCheckpoint) (bool, error)
	ReviewTx
	IncidentTx
}

// Event is one stored, already minimised event.
type Event struct {
	// Seq orders events: it grows in commit order, so a reader paging by Seq
	// never skips an event that commits after it has passed.
	Seq     int64
	Dataset string
	// ReceivedAt is the server's receive time, already rounded.
	ReceivedAt time.Time
	// EventID is the client's idempotency key ("" when the client sent none).
	EventID string
	// SubjectKey is the keyed hash of the data subject's identifier ("" when
	// the dataset has no subject).
	SubjectKey string
	// Data holds the minimised fields as a JSON object.
	Data json.RawMessage
}

// EventQuery selects events of one dataset, received in [From, To), with
// Seq > AfterSeq, in Seq order.
type EventQuery struct {
	Dataset  string
	From, To time.Time
	AfterSeq int64
	// SubjectKey, when set, limits the query to one subject.
	SubjectKey string
	Limit      int
}

// Events stores collected events.
type Events interface {
	// InsertEvents writes all events in one transaction and returns only once
	// it is committed. An event whose (Dataset, EventID) was already stored is
	// skipped: stored[i] is false for it. Seq and the stored events' order
	// follow the slice order.
	InsertEvents(ctx context.Context, events []Event) (stored []bool, err error)
	// ListEvents returns up to q.Limit events matching q, in Seq order,
	// leaving out every event whose subject key an erasure has deactivated
	// and not yet purged (see ErasedSubjects): each read path reads
	// through it, so none returns them.
	ListEvents(ctx context.Context, q EventQuery) ([]Event, error)
	// DeleteEventsBefore deletes a dataset's events received before cutoff,
	// with their idempotency keys, and returns how many events it deleted.
	DeleteEventsBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error)
	// DeleteSubjectEvents deletes every event of one subject in every dataset
	// and returns the count per dataset.
	DeleteSubjectEvents(ctx context.Context, subjectKey string) (map[string]int64, error)
}

// Token is an API bearer token. Only the SHA-256 of the secret is stored.
type Token struct {
	ID         string
	Name       string
	Role       string
	SecretHash []byte
	CreatedAt  time.Time
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Tokens stores API tokens.
type Tokens interface {
	CreateToken(ctx context.Context, t Token) error
	// TokenBySecretHash returns ErrNotFound for an unknown hash.
	TokenBySecretHash(ctx context.Context, hash []byte) (Token, error)
	// TouchToken records that the token was used at t.
	TouchToken(ctx context.Context, id string, t time.Time) error
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken returns ErrNotFound for an unknown id.
	RevokeToken(ctx context.Context, id string, at time.Time) error
}

// Sweep records one retention pass over one dataset.
type Sweep struct {
	ID         int64
	Dataset    string
	Cutoff     time.Time // events received before this were deleted
	Deleted    int64
	StartedAt  time.Time
	FinishedAt time.Time
	Error      string
}

// Sweeps records retention sweeps.
type Sweeps interface {
	RecordSweep(ctx context.Context, s Sweep) (int64, error)
	// ListSweeps returns the most recent sweeps first, up to limit, optionally
	// for one dataset ("" = all).
	ListSweeps(ctx context.Context, dataset string, limit int) ([]Sweep, error)
}

// Settings holds small server-wide values (for example the fingerprint of
// the hashing key, so nodes sharing a database can tell they disagree).
type Settings interface {
	// SetSettingIfAbsent stores value under key unless the key exists, and
	// returns the value now stored.
	SetSettingIfAbsent(ctx context.Context, key, value string) (string, error)
}
