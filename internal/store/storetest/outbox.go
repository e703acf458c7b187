package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

func claim(t *testing.T, s store.Store, now time.Time, limit int, lease time.Duration) []store.OutboxMessage {
	t.Helper()
	got, err := s.ClaimOutbox(context.Background(), now, limit, lease)
	if err != nil {
		t.Fatalf("claim at %s: %v", now, err)
	}
	return got
}

func refs(msgs []store.OutboxMessage) string {
	var out []string
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("%s#%d", m.Ref, m.Attempts))
	}
	return fmt.Sprint(out)
}

// outboxLifecycle walks messages through enqueue, claim, lease expiry,
// sent, retry and give-up.
func outboxLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	const lease = 2 * time.Minute
	err := s.EnqueueOutbox(ctx, []store.OutboxMessage{
		{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "Ihre Anfrage – erledigt", Body: "Grüße\nline 2\n", Ref: "request:r_1", CreatedAt: t0},
		{Kind: store.OutboxWebhook, To: "ops", Body: `{"text":"é"}`, Ref: "request:r_2", CreatedAt: t0.Add(time.Second)},
		// "_" in the prefix below must match literally, not this ref.
		{Kind: store.OutboxEmail, To: "bo@example.org", Subject: "later", Body: "b", Ref: "request:rX3", CreatedAt: t0, NextAttemptAt: t0.Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueOutbox(ctx, nil); err != nil {
		t.Fatalf("empty enqueue: %v", err)
	}

	got := claim(t, s, t0, 10, lease)
	if len(got) != 1 {
		t.Fatalf("claim at t0: %s", refs(got))
	}
	a := got[0]
	if a.ID == 0 || a.Kind != store.OutboxEmail || a.To != "ana@example.org" || a.Subject != "Ihre Anfrage – erledigt" ||
		a.Body != "Grüße\nline 2\n" || a.Ref != "request:r_1" || !a.CreatedAt.Equal(t0) || !a.NextAttemptAt.Equal(t0.Add(lease)) ||
		a.Attempts != 1 || !a.SentAt.IsZero() || !a.FailedAt.IsZero() || a.LastError != "" {
		t.Fatalf("claimed message: %+v", a)
	}
	// a is leased: a claim a second later finds only b.
	if got := claim(t, s, t0.Add(time.Second), 10, lease); refs(got) != "[request:r_2#1]" {
		t.Fatalf("claim while leased: %s", refs(got))
	}
	// The lease ends: a is due again (its worker may have died).
	got = claim(t, s, t0.Add(lease), 10, lease)
	if refs(got) != "[request:r_1#2]" {
		t.Fatalf("claim after lease: %s", refs(got))
	}
	if err := s.MarkOutboxSent(ctx, a.ID, t0.Add(lease+time.Second)); err != nil {
		t.Fatal(err)
	}

	now := t0.Add(10 * time.Minute)
	got = claim(t, s, now, 10, lease)
	if refs(got) != "[request:r_2#2]" {
		t.Fatalf("sent message claimed again, or b not due: %s", refs(got))
	}
	b := got[0]
	if err := s.MarkOutboxRetry(ctx, b.ID, "451 try later", now, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, now.Add(29*time.Second), 10, lease); len(got) != 0 {
		t.Fatalf("claimed before retry time: %s", refs(got))
	}
	got = claim(t, s, now.Add(30*time.Second), 10, lease)
	if refs(got) != "[request:r_2#3]" || got[0].LastError != "451 try later" {
		t.Fatalf("retry: %+v", got)
	}
	// A zero next gives up.
	if err := s.MarkOutboxRetry(ctx, b.ID, "gave up", now.Add(31*time.Second), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, t0.Add(2*time.Hour), 10, lease); refs(got) != "[request:rX3#1]" {
		t.Fatalf("failed message claimed again, or c not due: %s", refs(got))
	}
	// A late failure report for a message another worker delivered leaves
	// it delivered.
	if err := s.MarkOutboxRetry(ctx, a.ID, "late", now, time.Time{}); err != nil {
		t.Fatal(err)
	}

	list, err := s.ListOutbox(ctx, "request:r_", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("list by prefix: %+v", list)
	}
	if la := list[0]; !la.SentAt.Equal(t0.Add(lease+time.Second)) || !la.FailedAt.IsZero() || la.LastError != "" || la.Attempts != 2 {
		t.Fatalf("sent message: %+v", la)
	}
	if lb := list[1]; !lb.FailedAt.Equal(now.Add(31*time.Second)) || !lb.SentAt.IsZero() || lb.LastError != "gave up" || lb.Attempts != 3 {
		t.Fatalf("failed message: %+v", lb)
	}
	if all, _ := s.ListOutbox(ctx, "", 10); len(all) != 3 || all[2].Ref != "request:r_2" {
		t.Fatalf("list all, oldest first: %s", refs(all))
	}
	if one, _ := s.ListOutbox(ctx, "", 1); len(one) != 1 {
		t.Fatalf("list limit: %s", refs(one))
	}
	if err := s.MarkOutboxSent(ctx, 1<<40, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("mark unknown sent: %v", err)
	}
	if err := s.MarkOutboxRetry(ctx, 1<<40, "x", t0, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("mark unknown retry: %v", err)
	}

	// limit bounds a claim; due messages go oldest-due first.
	var more []store.OutboxMessage
	for i := range 5 {
		more = append(more, store.OutboxMessage{Kind: store.OutboxEmail, To: "x@example.org", Body: "x", Ref: fmt.Sprintf("m%d", i), CreatedAt: t0.Add(time.Duration(5-i) * time.Second)})
	}
	if err := s.EnqueueOutbox(ctx, more); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, t0.Add(3*time.Hour), 2, lease); refs(got) != "[m3#1 m4#1]" {
		t.Fatalf("limited claim: %s", refs(got))
	}
}

// outboxConcurrentClaimers: workers claiming at the same time never get the
// same message, and together get all of them.
func outboxConcurrentClaimers(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 300
	msgs := make([]store.OutboxMessage, n)
	for i := range msgs {
		msgs[i] = store.OutboxMessage{Kind: store.OutboxWebhook, To: "ops", Body: "{}", Ref: fmt.Sprintf("c%d", i), CreatedAt: t0}
	}
	if err := s.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimOutbox(ctx, t0, 1+w%3, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct messages of %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("message %d claimed %d times", id, c)
		}
	}
}
