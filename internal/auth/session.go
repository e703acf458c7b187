package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

// SessionCookie holds a signed-in browser's session secret.
const SessionCookie = "steward_session"

// CSRFField is the hidden form field that carries a session's CSRF token on
// every state-changing form of a signed-in page.
const CSRFField = "csrf_token"

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 8 * time.Hour

// Sessions creates, finds and ends browser sessions. Only the SHA-256 of the
// cookie's secret is stored, so a copy of the database cannot be replayed as
// a cookie.
type Sessions struct {
	Store  store.Accounts
	Clock  clock.Clock
	TTL    time.Duration
	Secure bool // mark the cookie Secure (steward served over TLS)
	Log    *slog.Logger
	// Refuse writes RequirePage's refusals as a page; the server sets
	// steward's error page (internal/web/ui.Refuse). Nil means Page.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, title, text string)
}

// Identity is who signs in, from a local account or the directory.
type Identity struct {
	UserID string
	Name   string
	Role   Role
	Method string // "password" or "ldap"
}

// Start signs id in: it ends the session the browser presented, if any,
// and always issues a fresh secret, so a session id planted before sign-in
// (session fixation) is never promoted to a signed-in one.
func (s Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, id Identity) (store.Session, error) {
	if old, err := s.lookup(ctx, r); err == nil {
		_ = s.Store.DeleteSession(ctx, old.ID)
	}
	var sid [8]byte
	var secret, csrfSecret [32]byte
	_, _ = rand.Read(sid[:])
	_, _ = rand.Read(secret[:])
	_, _ = rand.Read(csrfSecret[:])
	plain := base64.RawURLEncoding.EncodeToString(secret[:])
	now := s.Clock.Now().UTC()
	ss := store.Session{
		ID: hex.EncodeToString(sid[:]), SecretHash: hashSecret(plain), UserID: id.UserID,
		Name: id.Name, Role: string(id.Role), Method: id.Method,
		CreatedAt: now, ExpiresAt: now.Add(s.ttl()), CSRFSecret: csrfSecret[:],
	}
	if err := s.Store.CreateSession(ctx, ss); err != nil {
		return store.Session{}, err
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: plain, Path: "/", MaxAge: int(s.ttl().Seconds()),
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode,
	})
	return ss, nil
}

// End signs the browser out and clears its cookie.
func (s Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if ss, err := s.lookup(ctx, r); err == nil {
		_ = s.Store.DeleteSession(ctx, ss.ID)
	}
	s.clear(w)
}

func (s Sessions) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode})
}

var errNoSession = errors.New("no live session")

// lookup finds the live session of the request's cookie.
func (s Sessions) lookup(ctx context.Context, r *http.Request) (store.Session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) != 43 {
		return store.Session{}, errNoSession
	}
	ss, err := s.Store.SessionBySecretHash(ctx, hashSecret(c.Value))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, errNoSession
	case err != nil:
		return store.Session{}, err
	case !s.Clock.Now().Before(ss.ExpiresAt):
		return store.Session{}, errNoSession
	}
	return ss, nil
}

// Current returns the request's live session, if any; pages that anyone
// may see (the sign-in form) use it to greet a signed-in visitor.
func (s Sessions) Current(r *http.Request) (store.Session, bool) {
	ss, err := s.lookup(r.Context(), r)
	return ss, err == nil
}

func (s Sessions) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultSessionTTL
}

type sessionKey struct{}

// SessionFromContext returns the session RequirePage found.
func SessionFromContext(ctx context.Context) (store.Session, bool) {
	ss, ok := ctx.Value(sessionKey{}).(store.Session)
	return ss, ok
}

// CSRFToken is the form token of a session: a MAC of a fixed label under
// the session's own secret, so it changes with every sign-in and is useless
// in any other session.
func CSRFToken(ss store.Session) string {
	m := hmac.New(sha256.New, ss.CSRFSecret)
	m.Write([]byte("steward form v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRF reports whether tok is the session's form token.
func ValidCSRF(ss store.Session, tok string) bool {
	return tok != "" && len(ss.CSRFSecret) > 0 && hmac.Equal([]byte(tok), []byte(CSRFToken(ss)))
}

// LoginPath is where RequirePage sends a browser without a session.
const LoginPath = "/login"

// RequirePage wraps a page handler: it runs only for a live browser session
// in one of roles, and a state-changing request must also carry the
// session's CSRF token in the csrf_token form field. Without a session a
// GET is redirected to the sign-in page (which returns to it); anything
// else gets a readable 401, 403 or 503 page.
func (s Sessions) RequirePage(h http.Handler, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, err := s.lookup(r.Context(), r)
		if err != nil {
			if !errors.Is(err, errNoSession) {
				s.Log.Error("auth: session lookup failed", "err", err)
				w.Header().Set("Retry-After", "5")
				s.refuse(w, r, http.StatusServiceUnavailable, "Please try again", "Sign-in could not be checked just now. Try again in a minute.")
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.refuse(w, r, http.StatusUnauthorized, "Please sign in", "Your sign-in has ended; nothing was changed. Sign in and try again.")
			return
		}
		p := Principal{Method: ss.Method, CredentialID: "session:" + ss.ID, Name: ss.Name, Role: Role(ss.Role)}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		ctx = context.WithValue(ctx, sessionKey{}, ss)
		// From here on the refusals know who is signed in, so the error
		// page can show that person's navigation.
		r = r.WithContext(ctx)
		if len(roles) > 0 && !slices.Contains(roles, Role(ss.Role)) {
			s.refuse(w, r, http.StatusForbidden, "Not for your role", "Role "+ss.Role+" may not use this page.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := parseForm(w, r); err != nil {
				var big *http.MaxBytesError
				if errors.As(err, &big) {
					s.refuse(w, r, http.StatusRequestEntityTooLarge, "The form is too large",
						fmt.Sprintf("A form may carry at most %d KiB, or %d MiB with a file; nothing was changed.", maxForm>>10, maxUpload>>20))
					return
				}
				s.refuse(w, r, http.StatusBadRequest, "The form could not be read", "Nothing was changed. Go back and try again.")
				return
			}
			if r.MultipartForm != nil {
				defer r.MultipartForm.RemoveAll()
			}
			if !ValidCSRF(ss, r.PostFormValue(CSRFField)) {
				s.refuse(w, r, http.StatusForbidden, "The form expired", "The form did not come from this session (or it expired); nothing was changed. Go back, reload the page and try again.")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Form sizes a signed-in page takes: a plain form, and a multipart one
// that carries a file (a registry proposed for review).
const (
	maxForm   = 64 << 10
	maxUpload = 4 << 20
)

// parseForm reads a page's form, multipart ones included, so the CSRF
// token of an upload form is found like any other.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
		// The whole body fits in memory, so no file is spooled to disk.
		return r.ParseMultipartForm(maxUpload)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm()
}

func (s Sessions) refuse(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	if s.Refuse != nil {
		s.Refuse(w, r, status, title, text)
		return
	}
	Page(w, status, title, text)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · steward</title><link rel="stylesheet" href="/static/steward.css"></head>
<body><main><h1>{{.Title}}</h1><p class="error">{{.Text}}</p><p><a href="/login">Sign in</a> · <a href="/account">Your account</a></p></main></body></html>
`))

// Page writes a small, plain HTML page with a status: RequirePage's
// refusals when no Refuse is set, so a browser user still reads a
// sentence, not JSON.
func Page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Title, Text string }{title, text})
}
