package store

import (
	"context"
	"time"
)

// User is a local account that signs in with a password. Only an argon2id
// hash of the password is stored.
type User struct {
	ID           string
	Email        string // lower-cased; unique
	Role         string
	PasswordHash string // PHC string
	CreatedAt    time.Time
	DisabledAt   time.Time
}

// Session is a signed-in browser. Only the SHA-256 of the cookie's secret
// is stored; ID is a separate, non-secret handle for logs.
type Session struct {
	ID         string
	SecretHash []byte
	// UserID is the local user's id, or the directory login for LDAP.
	UserID    string
	Name      string // e-mail or directory login, for display and logs
	Role      string
	Method    string // password or ldap
	CreatedAt time.Time
	ExpiresAt time.Time
	// CSRFSecret is a random value bound to this session, from which form
	// tokens are derived.
	CSRFSecret []byte
}

// Accounts stores users, sessions and sign-in failures.
type Accounts interface {
	// CreateUser returns ErrConflict when the e-mail is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail returns ErrNotFound for an unknown e-mail.
	UserByEmail(ctx context.Context, email string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	// DisableUser returns ErrNotFound for an unknown e-mail; it also ends
	// the user's sessions.
	DisableUser(ctx context.Context, email string, at time.Time) error

	CreateSession(ctx context.Context, s Session) error
	// SessionBySecretHash returns ErrNotFound for an unknown hash.
	SessionBySecretHash(ctx context.Context, hash []byte) (Session, error)
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	// RecordLoginFailure notes a failed sign-in under key (an e-mail or a
	// client network) and returns how many failures key has since since.
	RecordLoginFailure(ctx context.Context, key string, at, since time.Time) (int, error)
	// LoginFailures counts key's failures since since.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, error)
	// ClearLoginFailures forgets key's failures (after a good sign-in).
	ClearLoginFailures(ctx context.Context, key string) error
}
