package store

import (
	"context"
	"time"
)

// AccessEntry is one access to personal data (or one refused attempt), as
// kept in the hash-chained access log. The accesslog package computes
// PrevHash and Hash; a backend only assigns Seq and stores what it is given.
type AccessEntry struct {
	Seq          int64
	At           time.Time
	Actor        string // token or user name
	AuthMethod   string // token, password, ldap
	CredentialID string // token or session id, never a secret
	Role         string
	Purpose      string
	Dataset      string
	Query        string // what was asked, without secrets
	Records      int64
	Subjects     int64
	// SubjectKeys are the keyed hashes of the subjects touched, sorted.
	SubjectKeys []string
	ClientNet   string // minimised client address
	Decision    string // allowed or denied
	Reason      string
	PrevHash    []byte
	Hash        []byte
}

// AccessQuery selects access-log entries with Seq > AfterSeq, in Seq order.
// Empty fields do not filter.
type AccessQuery struct {
	Actor      string
	SubjectKey string
	Dataset    string
	From, To   time.Time // At in [From, To)
	AfterSeq   int64
	Limit      int
}

// AccessLog stores the access log. Entries are never updated or deleted.
type AccessLog interface {
	// AppendAccess appends entries in one transaction, serialised against
	// every other appender (also in other processes): it gives them the
	// next Seqs in slice order, calls seal on each in order with the hash of
	// the entry before it (nil when the log is empty), stores them and
	// returns once they are committed.
	AppendAccess(ctx context.Context, entries []*AccessEntry, seal func(e *AccessEntry, prevHash []byte)) error
	// AccessHead returns the last entry, or ErrNotFound for an empty log.
	AccessHead(ctx context.Context) (AccessEntry, error)
	// ListAccess returns up to q.Limit entries matching q.
	ListAccess(ctx context.Context, q AccessQuery) ([]AccessEntry, error)
	// ScanAccess calls fn for every entry with afterSeq < Seq <= uptoSeq,
	// in Seq order, without holding the whole log in memory; fn's error
	// stops the scan and is returned. Several scans may run at once.
	ScanAccess(ctx context.Context, afterSeq, uptoSeq int64, fn func(*AccessEntry) error) error
	// ScanAccessSubjects calls fn for every row of the subject index (the
	// table ListAccess searches by SubjectKey) with afterSeq < seq <=
	// uptoSeq, in seq order (one seq's keys in no set order), so verify can
	// hold the index against the entries' own keys; fn's error stops the
	// scan and is returned.
	ScanAccessSubjects(ctx context.Context, afterSeq, uptoSeq int64, fn func(seq int64, subjectKey string) error) error
	// AccessCheckpoints returns every stored checkpoint in Seq order.
	AccessCheckpoints(ctx context.Context) ([]AccessCheckpoint, error)
	// LatestAccessCheckpoint returns the checkpoint of the highest Seq, or
	// ErrNotFound when there is none.
	LatestAccessCheckpoint(ctx context.Context) (AccessCheckpoint, error)
}

// AccessCheckpoint is a signed statement that the access log's entry Seq
// had hash Hash at SignedAt (package accesslog signs and checks it). A
// copy also goes to a witness outside the database; see
// docs/access-log.md. Stored once per Seq, never changed.
type AccessCheckpoint struct {
	ID       int64
	Seq      int64
	Hash     []byte
	SignedAt time.Time
	// Signed is the signed document exactly as sent to the witness; Seq,
	// Hash and SignedAt repeat what it says, for queries.
	Signed string
}
