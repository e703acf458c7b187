package workflow

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/postgres"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

// eachStore runs f against a fresh, migrated SQLite store in a temporary
// directory and, when STEWARD_TEST_POSTGRES is set, a PostgreSQL store in
// a schema of its own.
func eachStore(t *testing.T, f func(t *testing.T, s store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		migrate(t, s)
		f(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(context.Background(), pgSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		migrate(t, s)
		f(t, s)
	})
}

func migrate(t *testing.T, s store.Store) {
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func pgSchema(t *testing.T) string { return pgtest.Schema(t) }

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// reviewKind keeps the review lifecycle in the requests table: the only
// stored entity today, and enough to show what a domain supplies.
func reviewKind(s store.Store) Kind[store.Request] {
	return Kind[store.Request]{
		Table: review,
		State: func(r store.Request) State { return State(r.Status) },
		Enter: func(r *store.Request, st State, at time.Time) { r.Status, r.StatusAt = string(st), at },
		Touch: func(r *store.Request, at time.Time) { r.UpdatedAt = at },
		Insert: func(ctx context.Context, tx store.Tx, r *store.Request) error {
			return tx.CreateRequest(ctx, *r)
		},
		Update: func(ctx context.Context, tx store.Tx, r *store.Request) error {
			v, err := tx.UpdateRequest(ctx, *r)
			r.Version = v
			return err
		},
		Record: func(ctx context.Context, tx store.Tx, r store.Request, h Entry) error {
			return tx.AppendRequestEvent(ctx, store.RequestEvent{RequestID: r.ID, At: h.At, Actor: h.Actor, From: string(h.From), To: string(h.To), Note: h.Note})
		},
		Messages: func(r store.Request, to State) []store.OutboxMessage {
			if to != "approved" {
				return nil
			}
			return []store.OutboxMessage{{Kind: store.OutboxEmail, To: r.Email, Subject: "approved", Body: "b", Ref: "review:" + r.ID + ":approved", CreatedAt: r.UpdatedAt}}
		},
		InState: func(ctx context.Context, st State, before time.Time) ([]store.Request, error) {
			return s.RequestsInStatus(ctx, string(st), before)
		},
	}
}

type committed struct {
	h        Entry
	messages int
}

func newMachine(s store.Store, c *clock.Fake) (*Machine[store.Request], *[]committed) {
	var log []committed
	return &Machine[store.Request]{Kind: reviewKind(s), Store: s, Clock: c,
		Committed: func(_ store.Request, h Entry, n int) { log = append(log, committed{h, n}) }}, &log
}

func draft(id, subject string) store.Request {
	return store.Request{ID: id, StatusTokenHash: []byte("h"), Channel: "web", Type: "erasure", Status: "draft",
		Email: id + "@example.org", SubjectKey: subject, Law: "gdpr", DueAt: t0.Add(30 * 24 * time.Hour), CreatedAt: t0, Version: 1}
}

// snapshot is everything a change may have written.
type snapshot struct {
	r       store.Request
	history []store.RequestEvent
	outbox  []store.OutboxMessage
}

func read(t *testing.T, s store.Store, id string) snapshot {
	t.Helper()
	ctx := context.Background()
	r, err := s.GetRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.RequestHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.ListOutbox(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{r, h, o}
}
