package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// tokenPrefix marks steward tokens so secret scanners can find leaked ones.
const tokenPrefix = "stw_"

// Errors from token authentication; callers answer 401 for all of them
// without saying which, but log the reason.
var (
	ErrBadToken     = errors.New("token is malformed")
	ErrUnknownToken = errors.New("token is not known")
	ErrRevoked      = errors.New("token was revoked")
	ErrExpired      = errors.New("token has expired")
)

// NewToken creates a token with a random secret, stores only the secret's
// hash and returns the secret, which is shown once and never again.
func NewToken(ctx context.Context, s store.Tokens, name string, role Role, ttl time.Duration, now time.Time) (string, store.Token, error) {
	if !ValidRole(string(role)) {
		return "", store.Token{}, fmt.Errorf("unknown role %q (roles: %s)", role, roleList())
	}
	if strings.TrimSpace(name) == "" {
		return "", store.Token{}, errors.New("a token needs a name saying who or what uses it")
	}
	var id [8]byte
	var secret [32]byte
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(secret[:])
	plain := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	t := store.Token{
		ID: hex.EncodeToString(id[:]), Name: name, Role: string(role),
		SecretHash: hashSecret(plain), CreatedAt: now,
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.CreateToken(ctx, t); err != nil {
		return "", store.Token{}, err
	}
	return plain, t, nil
}

// Authenticate finds the live token for a presented secret.
func Authenticate(ctx context.Context, s store.Tokens, secret string, now time.Time) (store.Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) != len(tokenPrefix)+43 {
		return store.Token{}, ErrBadToken
	}
	t, err := s.TokenBySecretHash(ctx, hashSecret(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Token{}, ErrUnknownToken
	case err != nil:
		return store.Token{}, err
	case !t.RevokedAt.IsZero():
		return store.Token{}, ErrRevoked
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return store.Token{}, ErrExpired
	}
	// Record use at most once a minute, so reads do not become writes.
	if now.Sub(t.LastUsedAt) > time.Minute {
		_ = s.TouchToken(ctx, t.ID, now)
	}
	return t, nil
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
