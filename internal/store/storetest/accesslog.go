package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

func seal(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) }

func accessEntry(actor, dataset string, at time.Time, keys ...string) *store.AccessEntry {
	return &store.AccessEntry{At: at, Actor: actor, AuthMethod: "token", CredentialID: "c-" + actor, Role: "analyst",
		Purpose: "product_improvement", Dataset: dataset, Query: "events from=…", Records: int64(len(keys)),
		Subjects: int64(len(keys)), SubjectKeys: keys, ClientNet: "192.0.2.0", Decision: accesslog.Allowed, Reason: "within policy"}
}

func accessLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.AccessHead(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("head of an empty log: %v", err)
	}
	if err := s.AppendAccess(ctx, []*store.AccessEntry{
		accessEntry("ana", "a", t0, "k1", "k2"),
		accessEntry("bob", "b", t0.Add(time.Minute), "k2"),
	}, seal); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAccess(ctx, []*store.AccessEntry{accessEntry("ana", "b", t0.Add(2*time.Minute))}, seal); err != nil {
		t.Fatal(err)
	}
	head, err := s.AccessHead(ctx)
	if err != nil || head.Seq != 3 || head.Actor != "ana" || len(head.Hash) != 32 {
		t.Fatalf("head: %+v %v", head, err)
	}
	all, _ := s.ListAccess(ctx, store.AccessQuery{Limit: 10})
	if len(all) != 3 || !all[0].At.Equal(t0) || fmt.Sprint(all[0].SubjectKeys) != "[k1 k2]" || all[2].SubjectKeys != nil {
		t.Fatalf("round trip: %+v", all)
	}
	for _, c := range []struct {
		q    store.AccessQuery
		want string
	}{
		{store.AccessQuery{Actor: "ana"}, "[1 3]"},
		{store.AccessQuery{Dataset: "b"}, "[2 3]"},
		{store.AccessQuery{SubjectKey: "k2"}, "[1 2]"},
		{store.AccessQuery{SubjectKey: "k1", Actor: "bob"}, "[]"},
		{store.AccessQuery{From: t0.Add(time.Minute)}, "[2 3]"},
		{store.AccessQuery{To: t0.Add(time.Minute)}, "[1]"},
		{store.AccessQuery{AfterSeq: 1, Limit: 1}, "[2]"},
	} {
		if c.q.Limit == 0 {
			c.q.Limit = 10
		}
		got, err := s.ListAccess(ctx, c.q)
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if err != nil || fmt.Sprint(seqs) != c.want && !(c.want == "[]" && len(seqs) == 0) {
			t.Errorf("list %+v: %v %v, want %s", c.q, seqs, err, c.want)
		}
	}

	// 32 concurrent appenders through the group commit: one unbroken
	// chain, every entry present once.
	app := accesslog.NewAppender(s, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if err := app.Append(ctx, accessEntry(fmt.Sprintf("w%d", w), "c", t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("k%d", i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	app.Close()
	res, err := accesslog.Verify(ctx, s, accesslog.Options{})
	if err != nil || res.Break != nil || res.Checked != 643 || res.HeadSeq != 643 {
		t.Fatalf("verify after concurrent appends: %+v %v", res, err)
	}
	if err := app.Append(ctx, accessEntry("late", "c", t0)); err == nil {
		t.Fatal("append after close accepted")
	}
}
