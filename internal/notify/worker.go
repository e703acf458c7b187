package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

// Worker defaults.
const (
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = 5 * time.Second
	DefaultMaxAttempts = 20
	DefaultRetryMin    = 30 * time.Second
	DefaultRetryMax    = time.Hour
)

// maxErrorText bounds the error kept in an outbox row.
const maxErrorText = 1000

// Worker sends due outbox messages. Several workers (one per node) may run
// against one database: a claim leases a message to one of them. Zero
// fields take the defaults above; Store, Clock and Log are required.
type Worker struct {
	Store store.Outbox
	Clock clock.Clock
	Log   *slog.Logger
	// Mail sends e-mail, Webhook webhook messages; nil means that kind is
	// not configured, and its messages are retried until it is (or until
	// the attempt limit).
	Mail    Sender
	Webhook Sender
	// Sealer opens messages' sealed secrets just before they are sent
	// (see secrets.go), and seals mail queued before secrets were sealed.
	// Without it, a message with sealed secrets is given up.
	Sealer *Sealer
	// Metrics counts attempts by outcome; nil counts nothing.
	Metrics *Metrics

	// Lease is how long a claimed message is reserved for this worker. It
	// must exceed the longest send (the senders' timeouts), or another
	// node may send the same message meanwhile.
	Lease time.Duration
	// Poll is how often Run looks for due messages when not woken.
	Poll time.Duration
	// MaxAttempts is how many attempts a message gets before it is given
	// up.
	MaxAttempts int
	// RetryMin is the wait after the first failure; it doubles with each
	// further failure up to RetryMax.
	RetryMin, RetryMax time.Duration

	wakeOnce sync.Once
	wake     chan struct{}
}

func (w *Worker) wakeCh() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Wake makes Run look for due messages now, e.g. right after a change that
// enqueued one has committed. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wakeCh() <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends, polling every Poll or when woken.
// When ctx ends it still finishes the message in hand, including recording
// the outcome, so a clean shutdown never leaves a message to be resent.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTimer(w.poll())
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.Log.Error("notify: cannot claim outbox messages", "err", err)
		}
		t.Reset(w.poll())
		select {
		case <-ctx.Done():
			return
		case <-w.wakeCh():
		case <-t.C:
		}
	}
}

// RunOnce sends every message due now, one claim at a time, and returns
// how many it handled (sent or not). Claiming one message at a time means
// a lease only has to cover one send, and a stop strands no claimed
// messages. It returns early, between messages, when ctx ends.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		msgs, err := w.Store.ClaimOutbox(ctx, w.Clock.Now(), 1, w.lease())
		if err != nil {
			return n, err
		}
		if len(msgs) == 0 {
			return n, nil
		}
		for _, m := range msgs {
			// Detached from ctx: a message once claimed is seen through.
			// The senders' own timeouts bound it.
			w.process(context.WithoutCancel(ctx), m)
			n++
		}
	}
	return n, nil
}

func (w *Worker) process(ctx context.Context, m store.OutboxMessage) {
	log := w.Log.With("id", m.ID, "ref", m.Ref, "kind", m.Kind, "attempt", m.Attempts)
	if m.Attempts > w.maxAttempts() {
		// Only reachable when the last allowed attempt never recorded an
		// outcome: its worker stopped mid-send, perhaps because of this
		// very message, so do not try again.
		w.giveUp(ctx, log, m, fmt.Errorf("attempt limit of %d reached; the last attempt ended without a recorded result", w.maxAttempts()))
		return
	}
	var sender Sender
	switch m.Kind {
	case store.OutboxEmail:
		sender = w.Mail
	case store.OutboxWebhook:
		sender = w.Webhook
	default:
		w.giveUp(ctx, log, m, fmt.Errorf("unknown message kind %q", m.Kind))
		return
	}
	if len(m.SealedSecrets) == 0 && w.Sealer != nil {
		var ok bool
		if m, ok = w.sealLegacy(ctx, log, m); !ok {
			return
		}
	}
	out := m // what is sent: m with its secrets in place
	if len(m.SealedSecrets) > 0 {
		var err error
		if w.Sealer == nil {
			err = ErrSecretsNoKey
		} else {
			out, err = w.Sealer.Open(m)
		}
		if err != nil {
			// Never send a message whose links would not work; giving it
			// up drops what cannot be opened.
			w.giveUp(ctx, log, m, err)
			return
		}
	}
	var err error
	if sender == nil {
		err = fmt.Errorf("no sender is configured for %s messages", m.Kind)
	} else {
		err = sender.Send(ctx, out)
	}
	now := w.Clock.Now()
	if err == nil {
		w.Metrics.attempt(m.Kind, "sent")
		if err := w.Store.MarkOutboxSent(ctx, m.ID, now); err != nil {
			log.Error("notify: message sent but not recorded as sent; it will be sent again after its lease", "err", err)
			return
		}
		log.Info("notify: message sent")
		return
	}
	if IsPermanent(err) || m.Attempts >= w.maxAttempts() {
		w.giveUp(ctx, log, m, err)
		return
	}
	w.Metrics.attempt(m.Kind, "failed")
	next := now.Add(w.backoff(m.Attempts))
	if serr := w.Store.MarkOutboxRetry(ctx, m.ID, errText(err), now, next); serr != nil {
		log.Error("notify: send failed and the failure was not recorded; retrying after the lease", "err", LogText(err), "store_err", serr)
		return
	}
	log.Warn("notify: send failed; will retry", "err", LogText(err), "retry_at", next)
}

// sealLegacy seals a message queued before secrets were sealed (one whose
// links hold a status token or confirmation code in clear) before it is
// sent, so it holds them in clear no longer, and not once sent. It returns
// the message to go on with, or false when the message must wait for its
// lease to run out (the store could not record the sealing).
func (w *Worker) sealLegacy(ctx context.Context, log *slog.Logger, m store.OutboxMessage) (store.OutboxMessage, bool) {
	sealed, found, err := w.Sealer.SealLegacy(m)
	if err != nil {
		// Its text is not what sealing expects; send it as it was written.
		log.Warn("notify: could not seal a message written before secrets were sealed; sending it as written", "err", err)
		return m, true
	}
	if !found {
		return m, true
	}
	if err := w.Store.SealOutbox(ctx, m.ID, sealed.Body, sealed.SealedSecrets); err != nil {
		log.Error("notify: could not store the sealing of a message written before secrets were sealed; it is tried again after its lease", "err", err)
		return m, false
	}
	log.Info("notify: sealed the secrets of a message written before secrets were sealed")
	return sealed, true
}

func (w *Worker) giveUp(ctx context.Context, log *slog.Logger, m store.OutboxMessage, err error) {
	w.Metrics.attempt(m.Kind, "given_up")
	if serr := w.Store.MarkOutboxRetry(ctx, m.ID, errText(err), w.Clock.Now(), time.Time{}); serr != nil {
		log.Error("notify: giving up on a message, but could not record it", "err", LogText(err), "store_err", serr)
		return
	}
	log.Error("notify: gave up on a message", "err", LogText(err))
}

func errText(err error) string {
	s := err.Error()
	if len(s) > maxErrorText {
		// Cut at a byte count, then drop a split character: PostgreSQL
		// refuses invalid UTF-8.
		s = strings.ToValidUTF8(s[:maxErrorText], "")
	}
	return s
}

// backoff is the wait after the attempt-th failure: RetryMin doubled per
// earlier failure, capped at RetryMax.
func (w *Worker) backoff(attempt int) time.Duration {
	lo, hi := w.RetryMin, w.RetryMax
	if lo <= 0 {
		lo = DefaultRetryMin
	}
	if hi <= 0 {
		hi = DefaultRetryMax
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func (w *Worker) lease() time.Duration {
	if w.Lease > 0 {
		return w.Lease
	}
	return DefaultLease
}

func (w *Worker) poll() time.Duration {
	if w.Poll > 0 {
		return w.Poll
	}
	return DefaultPoll
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts > 0 {
		return w.MaxAttempts
	}
	return DefaultMaxAttempts
}
