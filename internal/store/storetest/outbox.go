package storetest

import (
	"bytes"
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

// outboxSealedSecrets: a message's sealed secrets are stored as given,
// kept through retries, and dropped when it is sent or given up; a message
// from before sealing can be sealed once, while it waits.
func outboxSealedSecrets(t *testing.T, s store.Store) {
	ctx := context.Background()
	sealed := func(i int) []byte { return []byte{1, 0, byte(i), 0xff, '\n', 'x'} }
	err := s.EnqueueOutbox(ctx, []store.OutboxMessage{
		{Kind: store.OutboxEmail, To: "a@example.org", Body: "link: ⟦status page link⟧", SealedSecrets: sealed(1), Ref: "s1", CreatedAt: t0},
		{Kind: store.OutboxEmail, To: "b@example.org", Body: "link: ⟦status page link⟧", SealedSecrets: sealed(2), Ref: "s2", CreatedAt: t0.Add(time.Second)},
		{Kind: store.OutboxEmail, To: "c@example.org", Body: "link: ⟦status page link⟧", SealedSecrets: sealed(3), Ref: "s3", CreatedAt: t0.Add(2 * time.Second)},
		{Kind: store.OutboxWebhook, To: "ops", Body: "{}", SealedSecrets: []byte{}, Ref: "s4", CreatedAt: t0.Add(3 * time.Second)},
		{Kind: store.OutboxEmail, To: "d@example.org", Body: "old: ?token=abc", Ref: "s5", CreatedAt: t0.Add(4 * time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := claim(t, s, t0.Add(time.Minute), 10, time.Minute)
	if refs(got) != "[s1#1 s2#1 s3#1 s4#1 s5#1]" {
		t.Fatalf("claim: %s", refs(got))
	}
	for i, m := range got[:3] {
		if !bytes.Equal(m.SealedSecrets, sealed(i+1)) {
			t.Fatalf("%s: sealed secrets %x", m.Ref, m.SealedSecrets)
		}
	}
	if got[3].SealedSecrets != nil || got[4].SealedSecrets != nil {
		t.Fatalf("no secrets read back as %x, %x; want nil", got[3].SealedSecrets, got[4].SealedSecrets)
	}
	now := t0.Add(2 * time.Minute)
	for _, m := range []store.OutboxMessage{got[0], got[3]} {
		if err := s.MarkOutboxSent(ctx, m.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkOutboxRetry(ctx, got[1].ID, "451", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkOutboxRetry(ctx, got[2].ID, "550", now, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A message from before sealing: sealed once while it waits.
	if err := s.SealOutbox(ctx, got[4].ID, "old: ?token=⟦token⟧", sealed(5)); err != nil {
		t.Fatal(err)
	}
	if err := s.SealOutbox(ctx, got[4].ID, "again", sealed(6)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sealing a sealed message: %v", err)
	}
	for _, id := range []int64{got[0].ID, got[2].ID, 1 << 40} { // sent, given up, unknown
		if err := s.SealOutbox(ctx, id, "x", sealed(7)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("sealing message %d: %v", id, err)
		}
	}
	list, err := s.ListOutbox(ctx, "s", 10)
	if err != nil || len(list) != 5 {
		t.Fatalf("list: %+v %v", list, err)
	}
	for _, c := range []struct {
		m    store.OutboxMessage
		want []byte
		body string
	}{
		{list[0], nil, "link: ⟦status page link⟧"},       // sent
		{list[1], sealed(2), "link: ⟦status page link⟧"}, // will retry
		{list[2], nil, "link: ⟦status page link⟧"},       // given up
		{list[3], nil, "{}"},                             // never had any
		{list[4], sealed(5), "old: ?token=⟦token⟧"},      // sealed late
	} {
		if !bytes.Equal(c.m.SealedSecrets, c.want) || (c.want == nil) != (c.m.SealedSecrets == nil) || c.m.Body != c.body {
			t.Errorf("%s: sealed %x, body %q; want %x, %q", c.m.Ref, c.m.SealedSecrets, c.m.Body, c.want, c.body)
		}
	}
	// A late give-up of a sent message changes nothing.
	if err := s.MarkOutboxRetry(ctx, got[0].ID, "late", now, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ListOutbox(ctx, "s1", 1); again[0].SentAt.IsZero() || again[0].SealedSecrets != nil {
		t.Fatalf("after a late give-up: %+v", again[0])
	}
	// The retried message is claimed with its secrets; the late-sealed one too.
	got = claim(t, s, now.Add(2*time.Minute), 10, time.Minute)
	if refs(got) != "[s2#2 s5#2]" {
		t.Fatalf("claim after retry: %s", refs(got))
	}
	for _, m := range got {
		if len(m.SealedSecrets) == 0 {
			t.Fatalf("%s claimed without its secrets", m.Ref)
		}
	}
}

// outboxPending: the outbox's depth counts what is neither sent nor given
// up, leased or not, by kind.
func outboxPending(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got, err := s.PendingOutbox(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty outbox: %v %v", got, err)
	}
	var msgs []store.OutboxMessage
	for i, kind := range []string{store.OutboxEmail, store.OutboxEmail, store.OutboxEmail, store.OutboxWebhook} {
		msgs = append(msgs, store.OutboxMessage{Kind: kind, To: "x@example.org", Body: "b", Ref: fmt.Sprintf("p:%d", i), CreatedAt: t0})
	}
	if err := s.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	got := claim(t, s, t0, 2, time.Minute)
	if err := s.MarkOutboxSent(ctx, got[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkOutboxRetry(ctx, got[1].ID, "550 no such user", t0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// One e-mail sent, one given up, one waiting; the webhook waiting.
	if got, err := s.PendingOutbox(ctx); err != nil || len(got) != 2 || got[store.OutboxEmail] != 1 || got[store.OutboxWebhook] != 1 {
		t.Fatalf("pending: %v %v", got, err)
	}
}
