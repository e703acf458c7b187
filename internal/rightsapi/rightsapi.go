// Package rightsapi is the machine side of data subject requests: the
// app's intake endpoint, Facebook's data-deletion callback and the
// completion callbacks of webhook connectors.
package rightsapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/connectors"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/rights"
)

// API serves the endpoints.
type API struct {
	Rights *rights.Service
	// FacebookSecret is the Facebook app secret; empty disables the
	// callback (404).
	FacebookSecret string
	// FacebookMaxAge bounds how old a signed_request may be.
	FacebookMaxAge time.Duration
	// Webhooks are the webhook connectors by name, for their callbacks.
	Webhooks map[string]*connectors.Webhook
	Log      *slog.Logger
}

type intake struct {
	Type      string `json:"type"`
	Email     string `json:"email"`
	AppUserID string `json:"app_user_id"`
	Law       string `json:"law"`
}

// Create handles POST /v1/requests from the app (role app): the app
// passes its signed-in user's id and e-mail; the person still confirms by
// e-mail before anything is done.
func (a *API) Create(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		problem.New(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "send the request as application/json")
		return
	}
	var in intake
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem.New(w, http.StatusRequestEntityTooLarge, "too-large", "a request body is at most 8 KiB")
			return
		}
		problem.New(w, http.StatusBadRequest, "bad-json", "the body must be one JSON object with type, email, app_user_id and optionally law: "+err.Error())
		return
	}
	if dec.More() {
		problem.New(w, http.StatusBadRequest, "bad-json", "unexpected data after the JSON object")
		return
	}
	sub, err := a.Rights.Submit(r.Context(), rights.Intake{Channel: rights.ChannelApp, Type: in.Type, Email: in.Email,
		AppUserID: in.AppUserID, Law: in.Law, Acknowledged: true})
	var dup *rights.DuplicateError
	switch {
	case errors.As(err, &dup):
		problem.New(w, http.StatusConflict, "duplicate-request", dup.Error())
		return
	case errors.Is(err, rights.ErrBadIntake):
		problem.New(w, http.StatusBadRequest, "bad-request", strings.TrimPrefix(err.Error(), rights.ErrBadIntake.Error()+": "))
		return
	case err != nil:
		a.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": sub.Request.ID, "status": sub.Request.Status, "status_url": sub.StatusURL, "due_at": sub.Request.DueAt,
	})
}

// Facebook handles POST /callbacks/facebook/data-deletion. The answer is
// what Facebook shows the person: a status page and a confirmation code.
// Erasure still waits for the account owner's e-mailed confirmation.
func (a *API) Facebook(w http.ResponseWriter, r *http.Request) {
	if a.FacebookSecret == "" {
		problem.New(w, http.StatusNotFound, "not-configured", "the Facebook data-deletion callback is not configured on this server")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		problem.New(w, http.StatusBadRequest, "bad-form", "the body must be a form with signed_request")
		return
	}
	sr, err := rights.ParseSignedRequest(r.PostFormValue("signed_request"), a.FacebookSecret, a.Rights.Clock.Now(), a.FacebookMaxAge)
	if err != nil {
		a.Log.Info("facebook callback refused", "reason", err.Error())
		problem.New(w, http.StatusBadRequest, "bad-signed-request", err.Error())
		return
	}
	sub, err := a.Rights.Submit(r.Context(), rights.Intake{Channel: rights.ChannelFacebook, Type: rights.Erasure, FacebookUserID: sr.UserID})
	var dup *rights.DuplicateError
	switch {
	case errors.As(err, &dup):
		// Facebook calls again when the person removes the app again:
		// point to the request already made.
		writeJSON(w, http.StatusOK, map[string]string{"url": a.Rights.StatusURL(dup.Existing.ID), "confirmation_code": dup.Existing.ConfirmationCode})
		return
	case errors.Is(err, rights.ErrBadIntake):
		problem.New(w, http.StatusBadRequest, "bad-request", strings.TrimPrefix(err.Error(), rights.ErrBadIntake.Error()+": "))
		return
	case err != nil:
		a.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": sub.StatusURL, "confirmation_code": sub.Request.ConfirmationCode})
}

type completion struct {
	RequestID string `json:"request_id"`
	Phase     string `json:"phase"`
	Count     int64  `json:"count"`
	Detail    string `json:"detail"`
	Error     string `json:"error"`
}

// Completion handles POST /callbacks/connectors/{name}: a webhook
// connector reports that asynchronous work finished (or failed).
func (a *API) Completion(w http.ResponseWriter, r *http.Request) {
	wh := a.Webhooks[r.PathValue("name")]
	if wh == nil {
		problem.New(w, http.StatusNotFound, "unknown-connector", "no webhook connector of that name")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		problem.New(w, http.StatusRequestEntityTooLarge, "too-large", "a callback is at most 16 KiB")
		return
	}
	if err := wh.VerifyCallback(r.Header.Get("X-Steward-Timestamp"), r.Header.Get("X-Steward-Signature"), body, a.Rights.Clock.Now()); err != nil {
		problem.New(w, http.StatusUnauthorized, "bad-signature", err.Error())
		return
	}
	var c completion
	if err := json.Unmarshal(body, &c); err != nil || c.RequestID == "" || (c.Phase != rights.PhaseDeactivate && c.Phase != rights.PhasePurge) {
		problem.New(w, http.StatusBadRequest, "bad-json", "send {request_id, phase (deactivate or purge), count, detail, error}")
		return
	}
	var stepErr error
	if c.Error != "" {
		stepErr = errors.New(c.Error)
	}
	err = a.Rights.CompleteStep(r.Context(), c.RequestID, wh.Name(), c.Phase, rights.Result{Count: c.Count, Detail: c.Detail}, stepErr)
	switch {
	case errors.Is(err, rights.ErrNotFound):
		problem.New(w, http.StatusNotFound, "unknown-request", "no such request")
	case errors.Is(err, rights.ErrNotReady):
		problem.New(w, http.StatusConflict, "not-waiting", err.Error())
	case err != nil:
		var se *rights.StepError
		if errors.As(err, &se) {
			writeJSON(w, http.StatusOK, map[string]string{"recorded": "yes", "next_step_failed": se.Error()})
			return
		}
		a.unavailable(w, err)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"recorded": "yes"})
	}
}

func (a *API) unavailable(w http.ResponseWriter, err error) {
	a.Log.Error("requests api: failed", "err", err)
	w.Header().Set("Retry-After", "10")
	problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
