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
	// Body is plain text for e-mail, a JSON document for a webhook.
	Body string
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
	// MarkOutboxSent records delivery.
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// MarkOutboxRetry records a failed attempt and when to try again; with
	// a zero next the message is given up (FailedAt = now).
	MarkOutboxRetry(ctx context.Context, id int64, errText string, now, next time.Time) error
	// ListOutbox returns messages whose Ref starts with refPrefix, oldest
	// first.
	ListOutbox(ctx context.Context, refPrefix string, limit int) ([]OutboxMessage, error)
}
