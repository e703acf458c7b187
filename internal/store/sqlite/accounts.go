package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

const userCols = "id, email, role, password_hash, created_at, disabled_at"

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var created, disabled int64
	if err := row.Scan(&u.ID, &u.Email, &u.Role, &u.PasswordHash, &created, &disabled); err != nil {
		return u, wrap(err)
	}
	u.CreatedAt, u.DisabledAt = tm(created), tm(disabled)
	return u, nil
}

// CreateUser stores the e-mail lower-cased; the UNIQUE on it then makes
// e-mails unique whatever their case.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO users("+userCols+") VALUES (?,?,?,?,?,?)",
		u.ID, strings.ToLower(u.Email), u.Role, u.PasswordHash, us(u.CreatedAt), us(u.DisabledAt))
	return wrap(err)
}

func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE email = ?", strings.ToLower(email)))
}

func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+userCols+" FROM users ORDER BY email")
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	var id string
	if err := tx.QueryRowContext(ctx, "UPDATE users SET disabled_at = CASE WHEN disabled_at = 0 THEN ? ELSE disabled_at END WHERE email = ? RETURNING id",
		us(at), strings.ToLower(email)).Scan(&id); err != nil {
		return wrap(err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
		return wrap(err)
	}
	return wrap(tx.Commit())
}

const sessionCols = "id, secret_hash, user_id, name, role, method, created_at, expires_at, csrf_secret"

func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO sessions("+sessionCols+") VALUES (?,?,?,?,?,?,?,?,?)",
		se.ID, se.SecretHash, se.UserID, se.Name, se.Role, se.Method, us(se.CreatedAt), us(se.ExpiresAt), se.CSRFSecret)
	return wrap(err)
}

func (s *Store) SessionBySecretHash(ctx context.Context, hash []byte) (store.Session, error) {
	var se store.Session
	var created, expires int64
	err := s.r.QueryRowContext(ctx, "SELECT "+sessionCols+" FROM sessions WHERE secret_hash = ?", hash).Scan(
		&se.ID, &se.SecretHash, &se.UserID, &se.Name, &se.Role, &se.Method, &created, &expires, &se.CSRFSecret)
	if err != nil {
		return store.Session{}, wrap(err)
	}
	se.CreatedAt, se.ExpiresAt = tm(created), tm(expires)
	return se, nil
}

func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id)
	return wrap(err)
}

func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", us(now))
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RecordLoginFailure inserts and counts in one transaction on the single
// writer connection (BEGIN IMMEDIATE), so concurrent calls, in this process
// or another sharing the file, are serialised.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at, since time.Time) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrap(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO login_failures(key, at) VALUES (?,?)", key, us(at)); err != nil {
		return 0, wrap(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM login_failures WHERE key = ? AND at >= ?", key, us(since)).Scan(&n); err != nil {
		return 0, wrap(err)
	}
	return n, wrap(tx.Commit())
}

func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM login_failures WHERE key = ? AND at >= ?", key, us(since)).Scan(&n)
	return n, wrap(err)
}

func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM login_failures WHERE key = ?", key)
	return wrap(err)
}

func (s *Store) DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM login_failures WHERE at < ?", us(before))
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
