package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

// loginFailuresLock is the class of the two-key advisory lock that
// serialises RecordLoginFailure per key (the second key is the key's
// hash). Two-key locks never collide with the one-key locks in postgres.go.
const loginFailuresLock = 7253003

const userCols = "id, email, role, password_hash, created_at, disabled_at"

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	var disabled *time.Time
	if err := row.Scan(&u.ID, &u.Email, &u.Role, &u.PasswordHash, &u.CreatedAt, &disabled); err != nil {
		return store.User{}, wrap(err)
	}
	u.CreatedAt, u.DisabledAt = u.CreatedAt.UTC(), fromNull(disabled)
	return u, nil
}

// CreateUser stores the e-mail lower-cased; the UNIQUE on it then makes
// e-mails unique whatever their case.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO users("+userCols+") VALUES ($1,$2,$3,$4,$5,$6)",
		u.ID, strings.ToLower(u.Email), u.Role, u.PasswordHash, u.CreatedAt.UTC(), nullTime(u.DisabledAt))
	return wrap(err)
}

func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return scanUser(s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE email = $1", strings.ToLower(email)))
}

// ListUsers orders by e-mail bytewise (COLLATE "C"), as SQLite does, so
// both backends list users in the same order whatever the database locale.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+userCols+` FROM users ORDER BY email COLLATE "C"`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err())
}

// DisableUser keeps the first disabled_at of a user disabled twice, and
// ends the user's sessions in the same transaction either way.
func (s *Store) DisableUser(ctx context.Context, email string, at time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback(context.Background())
	var id string
	if err := tx.QueryRow(ctx, "UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE email = $2 RETURNING id",
		at.UTC(), strings.ToLower(email)).Scan(&id); err != nil {
		return wrap(err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", id); err != nil {
		return wrap(err)
	}
	return wrap(tx.Commit(ctx))
}

const sessionCols = "id, secret_hash, user_id, name, role, method, created_at, expires_at, csrf_secret"

func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions("+sessionCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
		se.ID, se.SecretHash, se.UserID, se.Name, se.Role, se.Method, se.CreatedAt.UTC(), se.ExpiresAt.UTC(), se.CSRFSecret)
	return wrap(err)
}

func (s *Store) SessionBySecretHash(ctx context.Context, hash []byte) (store.Session, error) {
	var se store.Session
	err := s.pool.QueryRow(ctx, "SELECT "+sessionCols+" FROM sessions WHERE secret_hash = $1", hash).Scan(
		&se.ID, &se.SecretHash, &se.UserID, &se.Name, &se.Role, &se.Method, &se.CreatedAt, &se.ExpiresAt, &se.CSRFSecret)
	if err != nil {
		return store.Session{}, wrap(err)
	}
	se.CreatedAt, se.ExpiresAt = se.CreatedAt.UTC(), se.ExpiresAt.UTC()
	return se, nil
}

func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE id = $1", id)
	return wrap(err)
}

func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1", now.UTC())
	if err != nil {
		return 0, wrap(err)
	}
	return tag.RowsAffected(), nil
}

// RecordLoginFailure takes a transaction-scoped advisory lock on the key
// before inserting, so concurrent failures for one key, on any node, count
// one after another instead of each missing the others' uncommitted rows.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at, since time.Time) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, wrap(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1::int, hashtext($2))", loginFailuresLock, key); err != nil {
		return 0, wrap(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO login_failures(key, at) VALUES ($1,$2)", key, at.UTC()); err != nil {
		return 0, wrap(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2", key, since.UTC()).Scan(&n); err != nil {
		return 0, wrap(err)
	}
	return n, wrap(tx.Commit(ctx))
}

func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2", key, since.UTC()).Scan(&n)
	return n, wrap(err)
}

func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM login_failures WHERE key = $1", key)
	return wrap(err)
}

func (s *Store) DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM login_failures WHERE at < $1", before.UTC())
	if err != nil {
		return 0, wrap(err)
	}
	return tag.RowsAffected(), nil
}
