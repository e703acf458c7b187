package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// DefaultWebhookTimeout bounds one webhook request.
const DefaultWebhookTimeout = 10 * time.Second

// Webhook posts webhook outbox messages to Slack-compatible incoming
// webhooks. Messages name a webhook; the URL, which is the credential,
// stays in the configuration and out of the database, errors and logs.
type Webhook struct {
	urls    map[string]string
	client  *http.Client
	timeout time.Duration
}

var webhookName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// NewWebhook checks the name → URL map: URLs must be https, or http to a
// loopback host. timeout 0 means DefaultWebhookTimeout. Errors name the
// webhook, never its URL.
func NewWebhook(urls map[string]string, timeout time.Duration) (*Webhook, error) {
	if timeout == 0 {
		timeout = DefaultWebhookTimeout
	}
	if timeout < 0 {
		return nil, errors.New("webhooks: timeout must be positive")
	}
	w := &Webhook{urls: map[string]string{}, timeout: timeout}
	for name, raw := range urls {
		if !webhookName.MatchString(name) {
			return nil, fmt.Errorf("webhooks: name %q: use letters, digits, '.', '_' or '-'", name)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("webhooks: %s: the URL is not valid", name)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && loopbackHost(u.Hostname()):
		default:
			return nil, fmt.Errorf("webhooks: %s: the URL must be https (http only to this host)", name)
		}
		w.urls[name] = raw
	}
	w.client = &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A redirect would resend the body elsewhere; report it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w, nil
}

// Names lists the configured webhooks, sorted.
func (w *Webhook) Names() []string { return slices.Sorted(maps.Keys(w.urls)) }

// Send posts msg.Body as JSON to the webhook msg.To names. A 2xx answer is
// delivery; anything else, or no answer, is retried.
func (w *Webhook) Send(ctx context.Context, msg store.OutboxMessage) error {
	if msg.Kind != store.OutboxWebhook {
		return Permanent(fmt.Errorf("webhook: message kind %q is not a webhook", msg.Kind))
	}
	target, ok := w.urls[msg.To]
	if !ok {
		// Retried: the operator may add it to the configuration.
		return fmt.Errorf("webhook %q is not configured", msg.To)
	}
	if !json.Valid([]byte(msg.Body)) {
		return Permanent(fmt.Errorf("webhook %s: the body is not valid JSON", msg.To))
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader([]byte(msg.Body)))
	if err != nil {
		return fmt.Errorf("webhook %s: cannot build the request", msg.To)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "steward")
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL; keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook %s: %v", msg.To, err)
	}
	// Drain a little so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s: HTTP %d", msg.To, resp.StatusCode)
	}
	return nil
}
