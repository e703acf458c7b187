package store

import (
	"context"
	"time"
)

// Outbox message kinds.
const (
	OutboxEmail   = "email"
	OutboxWebhook = "webhook"
)

// OutboxMessage is a message steward has promised to send: written in the
// same transaction as the change that causes it, sent by a worker that
// retries until the peer accepts it, so a crash between commit and send
// loses nothing.
type OutboxMessage struct {
	ID   int64
	Kind string // OutboxEmail or OutboxWebhook
	// To is an e-mail address, or the name of a configured webhook.
	To      string
	Subject string
	// Body is plain text for e-mail, a JSON document for a webhook. It
	// holds no secret: links that open a request (its status token, a
	// confirmation code) stand in it as placeholders, and their values are
	// in SealedSecrets.
	Body string
	// SealedSecrets is the values of the body's placeholders, encrypted by
	// notify.Sealer under a key derived from the hashing key, which is not
	// in the database. Nil when the message has no secret, and once it is
	// sent or given up: MarkOutboxSent and MarkOutboxRetry (giving up)
	// drop it, so a sent message keeps none.
	SealedSecrets []byte
	// Ref ties the message to what caused it (e.g. "request:r_…") for
	// the portal and for tests.
	Ref           string
	CreatedAt     time.Time
	NextAttemptAt time.Time
	// Attempts counts claims, so an attempt whose worker died before it
	// could record the outcome still counts towards the limit.
	Attempts  int
	LastError string
	SentAt    time.Time
	// FailedAt is set when the worker gives up (after its attempt limit).
	FailedAt time.Time
}

// Outbox stores messages waiting to be sent.
type Outbox interface {
	// EnqueueOutbox stores messages on their own (callers that change
	// other state enqueue inside that change's transaction instead, with
	// Tx.EnqueueOutbox).
	EnqueueOutbox(ctx context.Context, msgs []OutboxMessage) error
	// ClaimOutbox returns up to limit messages due at now that are neither
	// sent nor failed, and moves their NextAttemptAt to now+lease so a
	// second worker (another node) skips them while this one sends.
	ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxMessage, error)
	// MarkOutboxSent records delivery and drops the message's
	// SealedSecrets.
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// MarkOutboxRetry records a failed attempt and when to try again; with
	// a zero next the message is given up (FailedAt = now) and its
	// SealedSecrets are dropped.
	MarkOutboxRetry(ctx context.Context, id int64, errText string, now, next time.Time) error
	// SealOutbox replaces the body of a message written before secrets were
	// sealed (one with no SealedSecrets, neither sent nor given up) by one
	// with placeholders, and stores its sealed secrets. ErrNotFound when no
	// such message exists, e.g. because it was sent meanwhile.
	SealOutbox(ctx context.Context, id int64, body string, sealed []byte) error
	// ListOutbox returns messages whose Ref starts with refPrefix, oldest
	// first.
	ListOutbox(ctx context.Context, refPrefix string, limit int) ([]OutboxMessage, error)
	// PendingOutbox counts the messages neither sent nor given up, by kind
	// (the outbox's depth, for /metrics); kinds with none are absent.
	PendingOutbox(ctx context.Context) (map[string]int64, error)
}
