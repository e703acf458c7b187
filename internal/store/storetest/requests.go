package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

func request(id, subject, typ, status string, at time.Time) store.Request {
	return store.Request{ID: id, StatusTokenHash: []byte("h-" + id), Channel: "web", Type: typ, Status: status,
		Email: id + "@example.org", SubjectKey: subject, Law: "gdpr", DueAt: at.Add(30 * 24 * time.Hour),
		CreatedAt: at, UpdatedAt: at, StatusAt: at, Version: 1}
}

func requests(t *testing.T, s store.Store) {
	ctx := context.Background()
	create := func(r store.Request) error {
		return createRequest(ctx, s, r, store.RequestEvent{RequestID: r.ID, At: r.CreatedAt, Actor: "user", To: r.Status, Note: "made"},
			store.OutboxMessage{Kind: store.OutboxEmail, To: r.Email, Subject: "Confirm", Body: "link", Ref: "request:" + r.ID, CreatedAt: r.CreatedAt})
	}
	if err := create(request("r1", "s1", "erasure", "waiting_for_email_confirmation", t0)); err != nil {
		t.Fatal(err)
	}
	// A second live erasure for the same subject is a duplicate; an access
	// request for it is not.
	if err := create(request("r2", "s1", "erasure", "received", t0)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := create(request("r3", "s1", "access", "received", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRequest(ctx, "r1")
	if err != nil || got.Email != "r1@example.org" || !got.DueAt.Equal(t0.Add(30*24*time.Hour)) || !got.EmailConfirmedAt.IsZero() || got.Version != 1 {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.GetRequest(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if r, err := s.RequestBySubject(ctx, "s1", "erasure"); err != nil || r.ID != "r1" {
		t.Fatalf("by subject: %+v %v", r, err)
	}
	// Optimistic concurrency: the second writer with the old version loses.
	upd := got
	upd.Status, upd.StatusAt, upd.EmailConfirmedAt = "received", t0.Add(time.Hour), t0.Add(time.Hour)
	v, err := updateRequest(ctx, s, upd, &store.RequestEvent{RequestID: "r1", At: t0.Add(time.Hour), Actor: "user", From: "waiting_for_email_confirmation", To: "received"})
	if err != nil || v != 2 {
		t.Fatalf("update: %d %v", v, err)
	}
	if _, err := updateRequest(ctx, s, upd, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	hist, err := s.RequestHistory(ctx, "r1")
	if err != nil || len(hist) != 2 || hist[1].To != "received" || hist[1].From != "waiting_for_email_confirmation" {
		t.Fatalf("history: %+v %v", hist, err)
	}
	// Rejecting frees the subject for a new request.
	got, _ = s.GetRequest(ctx, "r1")
	got.Status = "rejected"
	if _, err := updateRequest(ctx, s, got, nil); err != nil {
		t.Fatal(err)
	}
	if err := create(request("r4", "s1", "erasure", "received", t0.Add(2*time.Minute))); err != nil {
		t.Fatalf("after rejection: %v", err)
	}
	list, total, err := s.ListRequests(ctx, store.RequestFilter{Limit: 10})
	if err != nil || total != 3 || len(list) != 3 || list[0].ID != "r4" {
		t.Fatalf("list: %d %v %v", total, ids(list), err)
	}
	for _, c := range []struct {
		f    store.RequestFilter
		want string
	}{
		{store.RequestFilter{Status: "received"}, "r4 r3"},
		{store.RequestFilter{Type: "access"}, "r3"},
		{store.RequestFilter{Search: "r1"}, "r1"},
		{store.RequestFilter{Search: "R4@EXAMPLE"}, "r4"},
		{store.RequestFilter{From: t0.Add(90 * time.Second)}, "r4"},
		{store.RequestFilter{Status: "received", Limit: 1, Offset: 1}, "r3"},
	} {
		if c.f.Limit == 0 {
			c.f.Limit = 10
		}
		list, _, err := s.ListRequests(ctx, c.f)
		if err != nil || ids(list) != c.want {
			t.Errorf("filter %+v: %q %v, want %q", c.f, ids(list), err, c.want)
		}
	}
	stale, err := s.RequestsInStatus(ctx, "received", t0.Add(90*time.Second))
	if err != nil || ids(stale) != "r3" {
		t.Fatalf("in status: %q %v", ids(stale), err)
	}
	step := store.RequestStep{RequestID: "r4", Connector: "events", Phase: "purge", Status: "failed", Error: "down", Attempts: 1, StartedAt: t0}
	if err := s.SaveStep(ctx, step); err != nil {
		t.Fatal(err)
	}
	step.Status, step.Error, step.Count, step.Attempts, step.FinishedAt = "done", "", 42, 2, t0.Add(time.Second)
	if err := s.SaveStep(ctx, step); err != nil {
		t.Fatal(err)
	}
	steps, err := s.RequestSteps(ctx, "r4")
	if err != nil || len(steps) != 1 || steps[0].Status != "done" || steps[0].Count != 42 || steps[0].Attempts != 2 || !steps[0].FinishedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("steps: %+v %v", steps, err)
	}
}

func ids(rs []store.Request) string {
	var out string
	for i, r := range rs {
		if i > 0 {
			out += " "
		}
		out += r.ID
	}
	return out
}

// createRequest stores r with its first history entry and messages, as
// one transaction.
func createRequest(ctx context.Context, s store.Store, r store.Request, ev store.RequestEvent, out ...store.OutboxMessage) error {
	return s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateRequest(ctx, r); err != nil {
			return err
		}
		if err := tx.AppendRequestEvent(ctx, ev); err != nil {
			return err
		}
		return tx.EnqueueOutbox(ctx, out)
	})
}

// updateRequest stores r with a history entry (when ev is not nil) and
// messages, as one transaction, and returns the new version.
func updateRequest(ctx context.Context, s store.Store, r store.Request, ev *store.RequestEvent, out ...store.OutboxMessage) (int64, error) {
	var v int64
	err := s.InTx(ctx, func(tx store.Tx) error {
		var err error
		if v, err = tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		if ev != nil {
			if err := tx.AppendRequestEvent(ctx, *ev); err != nil {
				return err
			}
		}
		return tx.EnqueueOutbox(ctx, out)
	})
	return v, err
}

// gleanRequest: a Glean deletion request keeps its client id through
// create and update.
func gleanRequest(t *testing.T, s store.Store) {
	ctx := context.Background()
	create := func(r store.Request) error {
		return createRequest(ctx, s, r, store.RequestEvent{RequestID: r.ID, At: r.CreatedAt, Actor: "glean", To: r.Status, Note: "made"})
	}
	g := request("rg", "sg", "erasure", "received", t0)
	g.Channel, g.Email, g.GleanClientID = "glean", "", "2b4e6a8c-1111-4222-8333-444455556666"
	if err := create(g); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRequest(ctx, "rg"); err != nil || got.GleanClientID != g.GleanClientID {
		t.Fatalf("glean client id: %+v %v", got, err)
	}
	g.Status = "in_progress"
	if _, err := updateRequest(ctx, s, g, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRequest(ctx, "rg"); got.GleanClientID != g.GleanClientID || got.Status != "in_progress" {
		t.Fatalf("glean client id after update: %+v", got)
	}
}
