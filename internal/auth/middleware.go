package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/store"
)

// Principal is the authenticated caller.
type Principal struct {
	// Method is how they authenticated ("token").
	Method string
	// CredentialID identifies the token (never its secret).
	CredentialID string
	Name         string
	Role         Role
}

type principalKey struct{}

// FromContext returns the caller set by Require.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Tokens authenticates bearer tokens.
type Tokens struct {
	Store store.Tokens
	Clock clock.Clock
	Log   *slog.Logger
}

// Require wraps h so it runs only for a live bearer token in one of roles.
func (a Tokens) Require(h http.Handler, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
			problem.New(w, http.StatusUnauthorized, "unauthenticated", "send an API token as Authorization: Bearer <token>")
			return
		}
		t, err := Authenticate(r.Context(), a.Store, strings.TrimSpace(secret), a.Clock.Now())
		if err != nil {
			if !errors.Is(err, ErrBadToken) && !errors.Is(err, ErrUnknownToken) &&
				!errors.Is(err, ErrRevoked) && !errors.Is(err, ErrExpired) {
				a.Log.Error("auth: token lookup failed", "err", err)
				w.Header().Set("Retry-After", "5")
				problem.New(w, http.StatusServiceUnavailable, "unavailable", "could not check the token; retry later")
				return
			}
			a.Log.Info("auth: token refused", "reason", err.Error())
			w.Header().Set("WWW-Authenticate", `Bearer realm="steward", error="invalid_token"`)
			problem.New(w, http.StatusUnauthorized, "invalid-token", "the token is not valid (unknown, malformed, revoked or expired)")
			return
		}
		if len(roles) > 0 && !slices.Contains(roles, Role(t.Role)) {
			problem.New(w, http.StatusForbidden, "forbidden", "role "+t.Role+" may not use this endpoint")
			return
		}
		p := Principal{Method: "token", CredentialID: t.ID, Name: t.Name, Role: Role(t.Role)}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
