package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// Migrations checks versioned migrations on a fresh database and on one a
// newer steward has migrated. fresh returns a store on an empty database,
// not yet migrated; future records version v in its schema_migrations
// behind steward's back, as a newer steward would.
func Migrations(t *testing.T, fresh func(t *testing.T) store.Store, future func(t *testing.T, s store.Store, version int)) {
	t.Run("Fresh", func(t *testing.T) { migrateFresh(t, fresh(t)) })
	t.Run("TooNew", func(t *testing.T) {
		ctx := context.Background()
		s := fresh(t)
		done, err := s.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		known := done[len(done)-1].Version
		future(t, s, known+4)
		want := fmt.Sprintf("database schema is at version %d but this steward knows only up to %d; upgrade steward (or point it at the right database)", known+4, known)
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrSchemaTooNew) || err.Error() != want {
			t.Fatalf("migrate: %v, want %q", err, want)
		}
		if _, err := s.MigrationStatus(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("status: %v", err)
		}
	})
}

func migrateFresh(t *testing.T, s store.Store) {
	ctx := context.Background()
	before, err := s.MigrationStatus(ctx)
	if err != nil || len(before) == 0 || before[0].ID() != "0001_initial" {
		t.Fatalf("status before: %+v %v", before, err)
	}
	for i, m := range before {
		if m.Version != i+1 || m.Applied || m.Baseline || !m.AppliedAt.IsZero() {
			t.Fatalf("status before, %d: %+v", i, m)
		}
	}
	start := time.Now().Add(-time.Second)
	done, err := s.Migrate(ctx)
	if err != nil || len(done) != len(before) {
		t.Fatalf("migrate: %+v %v", done, err)
	}
	for i, m := range done {
		if m.ID() != before[i].ID() || !m.Applied || m.Baseline || m.AppliedAt.Before(start) || m.AppliedAt.After(time.Now()) {
			t.Fatalf("applied %d: %+v", i, m)
		}
	}
	after, err := s.MigrationStatus(ctx)
	if err != nil || len(after) != len(done) {
		t.Fatalf("status after: %+v %v", after, err)
	}
	for i, m := range after {
		if m.ID() != done[i].ID() || !m.Applied || !m.AppliedAt.Equal(done[i].AppliedAt) || m.AppliedAt.Location() != time.UTC {
			t.Fatalf("status after, %d: %+v, applied %+v", i, m, done[i])
		}
	}
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second migrate: %+v %v", again, err)
	}
	if _, err := s.InsertEvents(ctx, []store.Event{ev("a", "id1", t0, "s1")}); err != nil {
		t.Fatal(err)
	}
}

// LegacyOutbox inserts outbox rows, with their SentAt, FailedAt and
// Attempts, the way steward wrote them before migration 0003 (no sealed
// secrets column), in a plain INSERT.
type LegacyOutbox func(t *testing.T, msgs ...store.OutboxMessage)

// LegacyRequest inserts a request row the way steward wrote it before
// migration 0009 (no glean_client_id column), in a plain INSERT.
type LegacyRequest func(t *testing.T, r store.Request)

// Upgrade checks that a database made before migrations were versioned is
// adopted in place with every row kept. legacy returns a store on a
// database holding the unversioned schema.sql (no schema_migrations), not
// yet migrated, and a way to write outbox rows into it. The other rows are
// written through the store API, which writes exactly what the unversioned
// steward wrote; once a migration changes a table these methods write,
// they must become plain INSERTs, as the outbox's are.
func Upgrade(t *testing.T, legacy func(t *testing.T) (store.Store, LegacyOutbox, LegacyRequest)) {
	ctx := context.Background()
	s, legacyOutbox, legacyRequest := legacy(t)
	before, err := s.MigrationStatus(ctx)
	if err != nil || len(before) == 0 || !before[0].Applied || !before[0].Baseline || !before[0].AppliedAt.IsZero() {
		t.Fatalf("status of the unversioned database: %+v %v", before, err)
	}
	for _, m := range before[1:] {
		if m.Applied {
			t.Fatalf("status of the unversioned database: %+v", before)
		}
	}

	// Rows in every table.
	if _, err := s.InsertEvents(ctx, []store.Event{ev("a", "id1", t0, "s1"), ev("a", "", t0.Add(time.Minute), ""), ev("b", "id2", t0.Add(24*time.Hour), "s2")}); err != nil {
		t.Fatal(err)
	}
	tok := store.Token{ID: "t1", Name: "dashboard", Role: "analyst", SecretHash: []byte("token-hash"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, "t1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordSweep(ctx, store.Sweep{Dataset: "a", Cutoff: t0, Deleted: 3, StartedAt: t0, FinishedAt: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetSettingIfAbsent(ctx, "key_fingerprint", "abc"); err != nil {
		t.Fatal(err)
	}
	r := request("r1", "s1", "erasure", "received", t0)
	r.StatusAt, r.EmailConfirmedAt, r.Version = t0.Add(time.Hour), t0.Add(time.Hour), 2
	legacyRequest(t, r)
	if err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.AppendRequestEvent(ctx, store.RequestEvent{RequestID: "r1", At: t0, Actor: "user", To: "waiting_for_email_confirmation", Note: "made"}); err != nil {
			return err
		}
		return tx.AppendRequestEvent(ctx, store.RequestEvent{RequestID: "r1", At: t0.Add(time.Hour), Actor: "user", From: "waiting_for_email_confirmation", To: "received"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveStep(ctx, store.RequestStep{RequestID: "r1", Connector: "app", Phase: "deactivate", Status: "done", Count: 1, Detail: "ok", Attempts: 1, StartedAt: t0, FinishedAt: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	// Mail as steward wrote it before secrets were sealed: the links carry
	// the status token and the confirmation code in clear.
	legacyOutbox(t, outboxBeforeSealing()...)
	if err := s.CreateUser(ctx, store.User{ID: "u1", Email: "desk@example.org", Role: "support", PasswordHash: "$argon2id$x", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, store.Session{ID: "sess1", SecretHash: []byte("session-hash"), UserID: "u1", Name: "desk@example.org", Role: "support",
		Method: "password", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), CSRFSecret: []byte("csrf")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordLoginFailure(ctx, "desk@example.org", t0, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAccess(ctx, []*store.AccessEntry{accessEntry("ana", "a", t0, "s1"), accessEntry("bob", "b", t0.Add(time.Minute))}, seal); err != nil {
		t.Fatal(err)
	}

	done, err := s.Migrate(ctx)
	if err != nil || len(done) != len(before) || !done[0].Baseline || done[0].ID() != "0001_initial" {
		t.Fatalf("migrate: %+v %v", done, err)
	}
	for _, m := range done[1:] {
		if m.Baseline {
			t.Fatalf("migrate: %+v", done)
		}
	}
	after, err := s.MigrationStatus(ctx)
	if err != nil || len(after) != len(before) {
		t.Fatalf("status: %+v %v", after, err)
	}
	for _, m := range after {
		if !m.Applied || m.Baseline || m.AppliedAt.IsZero() {
			t.Fatalf("status: %+v", after)
		}
	}
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second migrate: %+v %v", again, err)
	}

	// Every row, read back through the store.
	for _, c := range []struct {
		ds   string
		want int
	}{{"a", 2}, {"b", 1}} {
		got, err := s.ListEvents(ctx, store.EventQuery{Dataset: c.ds, From: t0, To: t0.Add(48 * time.Hour), Limit: 10})
		if err != nil || len(got) != c.want || string(got[0].Data) != `{"n":1,"s":"é"}` {
			t.Fatalf("events of %s: %+v %v", c.ds, got, err)
		}
	}
	if stored, err := s.InsertEvents(ctx, []store.Event{ev("a", "id1", t0, "s1"), ev("a", "id3", t0, "s1")}); err != nil || fmt.Sprint(stored) != "[false true]" {
		t.Fatalf("idempotency keys after the upgrade: %v %v", stored, err)
	}
	if got, err := s.ListEvents(ctx, store.EventQuery{Dataset: "a", From: t0, To: t0.Add(time.Hour), Limit: 10}); err != nil || len(got) != 3 || got[2].Seq <= got[1].Seq {
		t.Fatalf("events after a new insert: %+v %v", got, err)
	}
	if got, err := s.TokenBySecretHash(ctx, []byte("token-hash")); err != nil || got.Name != "dashboard" || !got.LastUsedAt.Equal(t0.Add(time.Minute)) || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("token: %+v %v", got, err)
	}
	if got, err := s.ListSweeps(ctx, "a", 10); err != nil || len(got) != 1 || got[0].Deleted != 3 {
		t.Fatalf("sweeps: %+v %v", got, err)
	}
	if got, err := s.SetSettingIfAbsent(ctx, "key_fingerprint", "other"); err != nil || got != "abc" {
		t.Fatalf("setting: %q %v", got, err)
	}
	if got, err := s.GetRequest(ctx, "r1"); err != nil || got.Status != "received" || got.Version != 2 || !got.EmailConfirmedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("request: %+v %v", got, err)
	}
	if hist, err := s.RequestHistory(ctx, "r1"); err != nil || len(hist) != 2 || hist[0].Note != "made" || hist[1].To != "received" {
		t.Fatalf("history: %+v %v", hist, err)
	}
	if steps, err := s.RequestSteps(ctx, "r1"); err != nil || len(steps) != 1 || steps[0].Detail != "ok" {
		t.Fatalf("steps: %+v %v", steps, err)
	}
	checkOutboxAfterSealing(t, s)
	if u, err := s.UserByEmail(ctx, "desk@example.org"); err != nil || u.ID != "u1" || u.PasswordHash != "$argon2id$x" {
		t.Fatalf("user: %+v %v", u, err)
	}
	if sess, err := s.SessionBySecretHash(ctx, []byte("session-hash")); err != nil || sess.UserID != "u1" || !bytes.Equal(sess.CSRFSecret, []byte("csrf")) {
		t.Fatalf("session: %+v %v", sess, err)
	}
	if n, err := s.LoginFailures(ctx, "desk@example.org", t0.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("login failures: %d %v", n, err)
	}
	if got, err := s.ListAccess(ctx, store.AccessQuery{SubjectKey: "s1", Limit: 10}); err != nil || len(got) != 1 || got[0].Actor != "ana" {
		t.Fatalf("access log by subject: %+v %v", got, err)
	}
	if err := s.AppendAccess(ctx, []*store.AccessEntry{accessEntry("cy", "a", t0.Add(2*time.Minute))}, seal); err != nil {
		t.Fatal(err)
	}
	if res, err := accesslog.Verify(ctx, s, accesslog.Options{}); err != nil || res.Break != nil || res.Checked != 3 {
		t.Fatalf("access log chain across the upgrade: %+v %v", res, err)
	}
}

// The secrets in outboxBeforeSealing's links.
const (
	legacyToken = "0123456789abcdef0123456789abcdef0123456789a"
	legacyCode  = "abcdefghijkmnpqrstuvwxyz23456789abcdefg" // 39 characters
)

func legacyMail(id string) string {
	return "Please confirm it by opening this link:\n\n  http://steward.test/privacy/requests/" + id + "/confirm?token=" + legacyToken +
		"&code=" + legacyCode + "\n\nFollow it here:\n\n  http://steward.test/privacy/requests/" + id + "?token=" + legacyToken + "\n"
}

// outboxBeforeSealing is one message in each state, and some text that
// only looks like a link's secret.
func outboxBeforeSealing() []store.OutboxMessage {
	at := t0.Add(time.Minute)
	return []store.OutboxMessage{
		{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "Confirm", Body: legacyMail("r1"), Ref: "request:r1:confirm", CreatedAt: t0, NextAttemptAt: t0, Attempts: 1, SentAt: at},
		{Kind: store.OutboxEmail, To: "bo@example.org", Subject: "Confirm", Body: legacyMail("r2"), Ref: "request:r2:confirm", CreatedAt: t0, NextAttemptAt: t0, Attempts: 1, FailedAt: at, LastError: "550"},
		{Kind: store.OutboxEmail, To: "cy@example.org", Subject: "Confirm", Body: legacyMail("r3"), Ref: "request:r3:confirm", CreatedAt: t0, NextAttemptAt: at, Attempts: 1, LastError: "451"},
		{Kind: store.OutboxWebhook, To: "ops", Body: `{"text":"done"}`, Ref: "request:r1:done", CreatedAt: t0, NextAttemptAt: t0, Attempts: 1, SentAt: at},
		{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "A question", Body: "Is ?token=short or &code=" + legacyCode + "x yours?", Ref: "request:r1:question", CreatedAt: t0, NextAttemptAt: t0, Attempts: 1, SentAt: at},
	}
}

// checkOutboxAfterSealing: migration 0003 removed the secrets from sent
// and given-up mail, kept the rest of its text, and left waiting mail as
// it was (the worker seals it when it claims it).
func checkOutboxAfterSealing(t *testing.T, s store.Store) {
	t.Helper()
	out, err := s.ListOutbox(context.Background(), "request:", 10)
	if err != nil || len(out) != 5 {
		t.Fatalf("outbox: %+v %v", out, err)
	}
	scrubbed := func(id string) string {
		return strings.NewReplacer(legacyToken, "(removed after sending)", legacyCode, "(removed after sending)").Replace(legacyMail(id))
	}
	want := map[string]string{
		"request:r1:confirm":  scrubbed("r1"),
		"request:r2:confirm":  scrubbed("r2"),
		"request:r3:confirm":  legacyMail("r3"),
		"request:r1:done":     `{"text":"done"}`,
		"request:r1:question": "Is ?token=short or &code=" + legacyCode + "x yours?",
	}
	for _, m := range out {
		if m.Body != want[m.Ref] || m.SealedSecrets != nil {
			t.Errorf("%s after the upgrade: %q, sealed %x; want %q", m.Ref, m.Body, m.SealedSecrets, want[m.Ref])
		}
	}
	if !strings.Contains(scrubbed("r1"), "/confirm?token=(removed after sending)&code=(removed after sending)\n") {
		t.Fatalf("the expected text is wrong: %q", scrubbed("r1"))
	}
}
