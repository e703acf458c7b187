package connectors

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
)

// WebhookConfig configures a webhook connector: the application does the
// work itself when steward calls it.
type WebhookConfig struct {
	Name string `yaml:"name"`
	// Label, Location and Safeguards describe the system to people: the
	// public notice and the records of processing (see Declared).
	Label      string `yaml:"label"`
	Location   string `yaml:"location"`
	Safeguards string `yaml:"safeguards"`
	URL        string `yaml:"url"`
	// Secret signs every call (and checks completion callbacks).
	Secret  string        `yaml:"secret"`
	Timeout time.Duration `yaml:"timeout"`
	// Retries are attempts after the first within one step.
	Retries int `yaml:"retries"`
}

// Webhook calls an application's endpoint for each phase. Calls carry
// X-Steward-Timestamp and X-Steward-Signature: "sha256=" and the hex
// HMAC-SHA256 of timestamp "." body under the shared secret. The app
// answers 200 with {"count":N,"detail":"…"} when done, or 202 when it will
// call back (POST /callbacks/connectors/{name}, signed the same way).
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
	// Sleep waits between retries (tests make it instant).
	Sleep func(time.Duration)
}

// NewWebhook checks the configuration.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if cfg.URL == "" || len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("connector %s: url and a secret of at least 16 characters are required", cfg.Name)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	}
	return &Webhook{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout}, Sleep: time.Sleep}, nil
}

// Name implements rights.Connector.
func (w *Webhook) Name() string { return w.cfg.Name }

// Label implements rights.Labelled.
func (w *Webhook) Label() string { return w.cfg.Label }

// Sign returns the signature header value for body at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyCallback checks a completion callback's signature (constant time)
// and freshness.
func (w *Webhook) VerifyCallback(tsHeader, sigHeader string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errors.New("X-Steward-Timestamp is missing or not a number")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("the callback is stale")
	}
	if !hmac.Equal([]byte(Sign(w.cfg.Secret, ts, body)), []byte(sigHeader)) {
		return errors.New("the callback signature does not match")
	}
	return nil
}

type call struct {
	RequestID string         `json:"request_id"`
	Phase     string         `json:"phase"`
	Subject   map[string]any `json:"subject"`
}

type answer struct {
	Count  int64             `json:"count"`
	Detail string            `json:"detail"`
	Tables []json.RawMessage `json:"tables"`
}

// call makes the signed call, retrying what may pass later, and returns
// the answer, its HTTP status and how many calls it made.
func (w *Webhook) call(ctx context.Context, phase string, s rights.Subject) (answer, int, int, error) {
	body, _ := json.Marshal(call{RequestID: s.RequestID, Phase: phase, Subject: map[string]any{
		"account_id": s.AccountID, "email": s.Email, "app_user_id": s.AppUserID}})
	var last error
	attempt := 0
	for ; attempt <= w.cfg.Retries; attempt++ {
		if attempt > 0 {
			w.Sleep(time.Duration(1<<attempt) * 500 * time.Millisecond)
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", w.cfg.URL, bytes.NewReader(body))
		ts := time.Now().Unix()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Steward-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Steward-Signature", Sign(w.cfg.Secret, ts, body))
		resp, err := w.client.Do(req)
		if err != nil {
			last = fmt.Errorf("%s: %v", w.cfg.Name, errors.Unwrap(err))
			continue
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		calls := attempt + 1
		switch {
		case resp.StatusCode == http.StatusAccepted:
			return answer{}, resp.StatusCode, calls, nil
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			var a answer
			if len(bytes.TrimSpace(raw)) > 0 && json.Unmarshal(raw, &a) != nil {
				return a, resp.StatusCode, calls, fmt.Errorf("%s answered %d with a body that is not JSON", w.cfg.Name, resp.StatusCode)
			}
			return a, resp.StatusCode, calls, nil
		case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
			// The app refuses the call itself: retrying will not help.
			return answer{}, resp.StatusCode, calls, fmt.Errorf("%s refused the %s call: HTTP %d", w.cfg.Name, phase, resp.StatusCode)
		default:
			last = fmt.Errorf("%s answered HTTP %d", w.cfg.Name, resp.StatusCode)
		}
	}
	// The calls are counted on the step (rights.Result.Attempts), not
	// repeated in the error, so the two cannot disagree.
	return answer{}, 0, attempt, last
}

func (w *Webhook) phase(ctx context.Context, phase string, s rights.Subject) (rights.Result, error) {
	a, status, calls, err := w.call(ctx, phase, s)
	if err != nil {
		return rights.Result{Attempts: calls}, err
	}
	if status == http.StatusAccepted {
		return rights.Result{Pending: true, Detail: "accepted; waiting for the app's completion callback", Attempts: calls}, nil
	}
	if a.Detail == "" {
		a.Detail = phase + " done by the app"
	}
	return rights.Result{Count: a.Count, Detail: a.Detail, Attempts: calls}, nil
}

// Deactivate asks the app to deactivate the account now.
func (w *Webhook) Deactivate(ctx context.Context, s rights.Subject) (rights.Result, error) {
	return w.phase(ctx, rights.PhaseDeactivate, s)
}

// Purge asks the app to delete the account's data for good.
func (w *Webhook) Purge(ctx context.Context, s rights.Subject) (rights.Result, error) {
	return w.phase(ctx, rights.PhasePurge, s)
}

// Export asks the app for what it holds: {"tables":[{"name","columns","rows"}]}.
func (w *Webhook) Export(ctx context.Context, s rights.Subject) (rights.Export, error) {
	a, status, calls, err := w.call(ctx, rights.PhaseExport, s)
	out := rights.Export{Attempts: calls}
	if err != nil {
		return out, err
	}
	if status == http.StatusAccepted {
		return out, fmt.Errorf("%s: exports must be answered at once (HTTP 200), not later", w.cfg.Name)
	}
	for _, raw := range a.Tables {
		var t struct {
			Name    string     `json:"name"`
			Columns []string   `json:"columns"`
			Rows    [][]string `json:"rows"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return out, fmt.Errorf("%s: export table is not {name, columns, rows}", w.cfg.Name)
		}
		out.Tables = append(out.Tables, rights.Table{Name: t.Name, Columns: t.Columns, Rows: t.Rows})
	}
	return out, nil
}

// Check calls the endpoint with phase "check"; the app answers 2xx.
func (w *Webhook) Check(ctx context.Context) error {
	_, _, _, err := w.call(ctx, "check", rights.Subject{RequestID: "check"})
	return err
}
