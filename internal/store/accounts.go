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
	// DisabledAt is zero while the account may sign in.
	DisabledAt time.Time
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
	// CreateUser stores u with its e-mail lower-cased. It returns
	// ErrConflict when the e-mail (compared lower-cased) or the id is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail matches the e-mail case-insensitively (it lower-cases
	// email) and returns ErrNotFound for an unknown e-mail. A disabled user
	// is still returned, with DisabledAt set.
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns every user, disabled ones included, ordered by
	// e-mail.
	ListUsers(ctx context.Context) ([]User, error)
	// DisableUser sets DisabledAt (keeping the first time when the user is
	// already disabled) and deletes the user's sessions, in one
	// transaction. It returns ErrNotFound for an unknown e-mail, matched as
	// in UserByEmail.
	DisableUser(ctx context.Context, email string, at time.Time) error

	// CreateSession returns ErrConflict when the id or the secret hash is
	// taken.
	CreateSession(ctx context.Context, s Session) error
	// SessionBySecretHash returns ErrNotFound for an unknown hash. It does
	// not look at ExpiresAt: the caller checks expiry.
	SessionBySecretHash(ctx context.Context, hash []byte) (Session, error)
	// DeleteSession ends a session; deleting one already gone is not an
	// error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes sessions with ExpiresAt <= now (a
	// session is live only while now is before ExpiresAt) and returns how
	// many it removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	// RecordLoginFailure notes a failed sign-in under key (an e-mail or a
	// client network) at at and, in the same transaction, returns how many
	// failures key has at or after since, this one included when at is not
	// before since. Concurrent calls for one key are serialised, so each
	// sees the ones committed before it.
	RecordLoginFailure(ctx context.Context, key string, at, since time.Time) (int, error)
	// LoginFailures counts key's failures at or after since.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, error)
	// ClearLoginFailures forgets key's failures (after a good sign-in).
	ClearLoginFailures(ctx context.Context, key string) error
	// DeleteLoginFailuresBefore removes every key's failures recorded
	// before before and returns how many it removed.
	DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int64, error)
}
