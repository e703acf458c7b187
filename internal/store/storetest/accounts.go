package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// accounts runs the store.Accounts checks on one store; each part uses its
// own users, sessions and keys.
func accounts(t *testing.T, s store.Store) {
	t.Run("Users", func(t *testing.T) { accountUsers(t, s) })
	t.Run("Sessions", func(t *testing.T) { accountSessions(t, s) })
	t.Run("LoginFailures", func(t *testing.T) { loginFailures(t, s) })
	t.Run("LoginFailuresConcurrent", func(t *testing.T) { loginFailuresConcurrent(t, s) })
}

func session(id, user string, created, expires time.Time) store.Session {
	return store.Session{ID: id, SecretHash: []byte("sh-" + id), UserID: user, Name: user + "@example.org", Role: "admin",
		Method: "password", CreatedAt: created, ExpiresAt: expires, CSRFSecret: []byte{0, 1, 0xfe, 0xff, byte(len(id))}}
}

func emails(us []store.User) string {
	var out []string
	for _, u := range us {
		out = append(out, u.Email)
	}
	return fmt.Sprint(out)
}

func accountUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Microseconds are what both backends keep.
	created := t0.Add(1234 * time.Microsecond)
	for _, u := range []store.User{
		{ID: "u-bob", Email: "bob@example.org", Role: "analyst", PasswordHash: "$argon2id$bob", CreatedAt: t0},
		{ID: "u-ana", Email: "Ana.Maria@Example.ORG", Role: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: created},
		{ID: "u-cem", Email: "cem@example.org", Role: "privacy", PasswordHash: "$argon2id$cem", CreatedAt: t0},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("create %s: %v", u.ID, err)
		}
	}
	got, err := s.UserByEmail(ctx, "ANA.maria@example.org")
	want := store.User{ID: "u-ana", Email: "ana.maria@example.org", Role: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}
	if err != nil || got.ID != want.ID || got.Email != want.Email || got.Role != want.Role || got.PasswordHash != want.PasswordHash ||
		!got.CreatedAt.Equal(created) || !got.DisabledAt.IsZero() {
		t.Fatalf("by e-mail: %+v %v", got, err)
	}
	if _, err := s.UserByEmail(ctx, "nobody@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown e-mail: %v", err)
	}
	// The e-mail is unique whatever its case; so is the id.
	if err := s.CreateUser(ctx, store.User{ID: "u-bob2", Email: "BOB@example.org", Role: "admin", PasswordHash: "x", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate e-mail: %v", err)
	}
	if err := s.CreateUser(ctx, store.User{ID: "u-bob", Email: "bob2@example.org", Role: "admin", PasswordHash: "x", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	list, err := s.ListUsers(ctx)
	if err != nil || emails(list) != "[ana.maria@example.org bob@example.org cem@example.org]" {
		t.Fatalf("list: %s %v", emails(list), err)
	}

	// Disabling ends the user's sessions and no one else's.
	for _, se := range []store.Session{session("s-bob1", "u-bob", t0, t0.Add(time.Hour)), session("s-bob2", "u-bob", t0, t0.Add(time.Hour)),
		session("s-cem", "u-cem", t0, t0.Add(time.Hour))} {
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	off := t0.Add(time.Minute + 5*time.Microsecond)
	if err := s.DisableUser(ctx, "Bob@Example.org", off); err != nil {
		t.Fatal(err)
	}
	if u, err := s.UserByEmail(ctx, "bob@example.org"); err != nil || !u.DisabledAt.Equal(off) {
		t.Fatalf("disabled user: %+v %v", u, err)
	}
	for _, id := range []string{"s-bob1", "s-bob2"} {
		if _, err := s.SessionBySecretHash(ctx, []byte("sh-"+id)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session %s of a disabled user: %v", id, err)
		}
	}
	if _, err := s.SessionBySecretHash(ctx, []byte("sh-s-cem")); err != nil {
		t.Fatalf("another user's session: %v", err)
	}
	if u, _ := s.UserByEmail(ctx, "cem@example.org"); !u.DisabledAt.IsZero() {
		t.Fatalf("another user disabled: %+v", u)
	}
	// Disabling again keeps the first time.
	if err := s.DisableUser(ctx, "bob@example.org", off.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.UserByEmail(ctx, "bob@example.org"); !u.DisabledAt.Equal(off) {
		t.Fatalf("disabled again: %+v", u)
	}
	if err := s.DisableUser(ctx, "nobody@example.org", off); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("disable unknown: %v", err)
	}
	// A disabled user is still listed.
	if list, _ := s.ListUsers(ctx); len(list) != 3 || list[1].Email != "bob@example.org" || !list[1].DisabledAt.Equal(off) {
		t.Fatalf("list after disable: %+v", list)
	}
}

func accountSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	created := t0.Add(7 * time.Microsecond)
	want := store.Session{ID: "s1", SecretHash: []byte{0xde, 0xad, 0, 0xbe, 0xef}, UserID: "ldap-jdoe", Name: "jdoe", Role: "analyst",
		Method: "ldap", CreatedAt: created, ExpiresAt: created.Add(12 * time.Hour), CSRFSecret: []byte{0, 0xff, 0x10}}
	if err := s.CreateSession(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionBySecretHash(ctx, []byte{0xde, 0xad, 0, 0xbe, 0xef})
	if err != nil || got.ID != want.ID || !bytes.Equal(got.SecretHash, want.SecretHash) || got.UserID != want.UserID || got.Name != want.Name ||
		got.Role != want.Role || got.Method != want.Method || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		!bytes.Equal(got.CSRFSecret, want.CSRFSecret) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// A lookup does not care about expiry: the caller does.
	if _, err := s.SessionBySecretHash(ctx, []byte{0xde, 0xad}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	dupHash := session("s2", "u", t0, t0.Add(time.Hour))
	dupHash.SecretHash = want.SecretHash
	if err := s.CreateSession(ctx, dupHash); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate secret hash: %v", err)
	}
	dupID := session("s1", "u", t0, t0.Add(time.Hour))
	if err := s.CreateSession(ctx, dupID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionBySecretHash(ctx, want.SecretHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Fatalf("delete twice: %v", err)
	}

	// Expired means ExpiresAt <= now.
	for _, se := range []store.Session{session("e-before", "u", t0.Add(-time.Hour), t0.Add(-time.Microsecond)),
		session("e-at", "u", t0.Add(-time.Hour), t0), session("e-after", "u", t0.Add(-time.Hour), t0.Add(time.Microsecond))} {
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredSessions(ctx, t0); err != nil || n != 2 {
		t.Fatalf("delete expired: %d %v", n, err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, t0); err != nil || n != 0 {
		t.Fatalf("delete expired again: %d %v", n, err)
	}
	if _, err := s.SessionBySecretHash(ctx, []byte("sh-e-after")); err != nil {
		t.Fatalf("live session deleted: %v", err)
	}
	if _, err := s.SessionBySecretHash(ctx, []byte("sh-e-at")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session expiring at now kept: %v", err)
	}
}

func loginFailures(t *testing.T, s store.Store) {
	ctx := context.Background()
	record := func(key string, at, since time.Time, want int) {
		t.Helper()
		if n, err := s.RecordLoginFailure(ctx, key, at, since); err != nil || n != want {
			t.Fatalf("record %s at %s since %s: %d %v, want %d", key, at, since, n, err, want)
		}
	}
	count := func(key string, since time.Time, want int) {
		t.Helper()
		if n, err := s.LoginFailures(ctx, key, since); err != nil || n != want {
			t.Fatalf("failures of %s since %s: %d %v, want %d", key, since, n, err, want)
		}
	}
	record("ana@example.org", t0.Add(-10*time.Minute), t0.Add(-15*time.Minute), 1)
	record("ana@example.org", t0.Add(-5*time.Minute), t0.Add(-15*time.Minute), 2)
	// The window starts at since, inclusive; an older failure is not counted.
	record("ana@example.org", t0, t0.Add(-5*time.Minute), 2)
	// A failure recorded before the window is stored but not counted.
	record("ana@example.org", t0.Add(-time.Hour), t0.Add(-5*time.Minute), 2)
	record("192.0.2.0/24", t0, t0.Add(-time.Minute), 1)
	count("ana@example.org", time.Time{}, 4)
	count("ana@example.org", t0.Add(-5*time.Minute), 2)
	count("ana@example.org", t0.Add(-5*time.Minute+time.Microsecond), 1)
	count("ana@example.org", t0.Add(time.Microsecond), 0)
	count("nobody", time.Time{}, 0)

	if err := s.ClearLoginFailures(ctx, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	count("ana@example.org", time.Time{}, 0)
	count("192.0.2.0/24", time.Time{}, 1)
	if err := s.ClearLoginFailures(ctx, "nobody"); err != nil {
		t.Fatalf("clear unknown key: %v", err)
	}

	// Pruning removes every key's failures before the cutoff, exclusive.
	record("bo@example.org", t0.Add(-2*time.Hour), time.Time{}, 1)
	record("bo@example.org", t0.Add(-time.Hour), time.Time{}, 2)
	record("192.0.2.0/24", t0.Add(-3*time.Hour), time.Time{}, 2)
	if n, err := s.DeleteLoginFailuresBefore(ctx, t0.Add(-time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune: %d %v", n, err)
	}
	count("bo@example.org", time.Time{}, 1)
	count("192.0.2.0/24", time.Time{}, 1)
	if n, err := s.DeleteLoginFailuresBefore(ctx, t0.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("prune again: %d %v", n, err)
	}
}

// loginFailuresConcurrent: failures recorded at once for one key each see
// the ones before them, so the counts returned are 1..n with none repeated.
func loginFailuresConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const workers, each = 8, 5
	var mu sync.Mutex
	var counts []int
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				n, err := s.RecordLoginFailure(ctx, "198.51.100.0/24", t0, t0.Add(-time.Minute))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts = append(counts, n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts %v: want 1..%d once each", counts, workers*each)
		}
	}
	if len(counts) != workers*each {
		t.Fatalf("%d counts", len(counts))
	}
}
