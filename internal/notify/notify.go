// Package notify delivers the messages steward writes to its outbox:
// e-mail over SMTP and JSON posts to Slack-compatible incoming webhooks.
// A Worker claims due messages, sends each with the sender for its kind,
// and records the outcome, retrying with backoff. Delivery is at least
// once: a worker that dies between the peer's acceptance and the database
// write sends the message again after its lease, with the same Message-ID.
// See docs/notify.md.
package notify

import (
	"context"
	"errors"

	"github.com/steward-privacy/steward/internal/store"
)

// Sender delivers one outbox message. A nil error means the peer accepted
// it; an error wrapped with Permanent means retrying cannot help.
type Sender interface {
	Send(ctx context.Context, m store.OutboxMessage) error
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one no retry can fix (an invalid address, a
// recipient the server does not know): the worker gives the message up.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// logTexter is implemented by errors whose Error text may quote the
// recipient (an SMTP server's reply often does): LogText is the same
// error without it. The full text is stored in the outbox row, which holds
// the recipient anyway; logs never see it.
type logTexter interface{ LogText() string }

// LogText returns err's text as fit for a log line.
func LogText(err error) string {
	var lt logTexter
	if errors.As(err, &lt) {
		return lt.LogText()
	}
	return err.Error()
}
