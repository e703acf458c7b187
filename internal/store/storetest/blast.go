package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// blastRadius holds the counts a breach's blast radius is made of: allowed
// entries only, [from, to), distinct subjects across datasets, both ways a
// credential is named, capped keys, a dataset alone, and the event store.
func blastRadius(t *testing.T, s store.Store) {
	ctx := context.Background()
	entry := func(method, cred, actor, ds, decision string, at time.Time, records int64, keys ...string) *store.AccessEntry {
		return &store.AccessEntry{At: at, Actor: actor, AuthMethod: method, CredentialID: cred, Role: "analyst", Purpose: "p",
			Dataset: ds, Query: "q", Records: records, Subjects: int64(len(keys)), SubjectKeys: keys, Decision: decision, Reason: "r"}
	}
	ok, no := accesslog.Allowed, accesslog.Denied
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	es := []*store.AccessEntry{
		entry("token", "tk1", "dash", "a", ok, h(0), 3, "k1", "k2", "k3"),
		entry("token", "tk1", "dash", "a", ok, h(1), 2, "k2", "k4"),
		entry("token", "tk1", "dash", "b", ok, h(2), 5, "k3", "k5"),             // k3 in both datasets
		entry("token", "tk1", "dash", "b", no, h(3), 0, "k9"),                   // refused: reached no one
		entry("token", "tk1", "dash", "a", ok, h(10), 7, "k8"),                  // at the window's end: outside
		entry("token", "tk1", "dash", "a", ok, h(0).Add(-time.Second), 1, "k7"), // before it
		entry("token", "tk2", "dash", "a", ok, h(1), 4, "k6"),                   // another credential, same actor
		entry("pgaudit", "", "bob_role", "a", ok, h(4), 6, "k1", "k6"),          // a database role: named by actor
		entry("pgaudit", "", "other_role", "a", ok, h(4), 1, "k5"),
		entry("password", "", "tk1", "a", ok, h(4), 1, "k10"), // another method with an actor named like the token
	}
	if err := s.AppendAccess(ctx, es, seal); err != nil {
		t.Fatal(err)
	}
	win := func(q store.BlastQuery) store.BlastQuery {
		q.From, q.To = h(0), h(10)
		if q.KeysCap == 0 {
			q.KeysCap = 100
		}
		return q
	}
	got, err := s.BlastRadius(ctx, win(store.BlastQuery{Credential: "token:tk1"}))
	if err != nil {
		t.Fatal(err)
	}
	want := store.BlastResult{Entries: 3, Records: 10, Subjects: 5, SubjectKeys: []string{"k1", "k2", "k3", "k4", "k5"},
		Datasets: []store.BlastCount{{Dataset: "a", Entries: 2, Records: 5, Subjects: 4, First: h(0), Last: h(1)},
			{Dataset: "b", Entries: 1, Records: 5, Subjects: 2, First: h(2), Last: h(2)}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("credential:\n got %+v\nwant %+v", got, want)
	}

	got, err = s.BlastRadius(ctx, win(store.BlastQuery{Credential: "token:tk1", KeysCap: 2}))
	if err != nil || !got.KeysTruncated || !slices.Equal(got.SubjectKeys, []string{"k1", "k2"}) || got.Subjects != 5 {
		t.Fatalf("capped keys: %v %+v", err, got)
	}
	got, err = s.BlastRadius(ctx, win(store.BlastQuery{Credential: "token:tk1", KeysCap: 5}))
	if err != nil || got.KeysTruncated || len(got.SubjectKeys) != 5 {
		t.Fatalf("keys exactly at the cap are not truncated: %v %+v", err, got)
	}

	got, err = s.BlastRadius(ctx, win(store.BlastQuery{Credential: "pgaudit:bob_role"}))
	if err != nil || got.Entries != 1 || got.Records != 6 || got.Subjects != 2 || !slices.Equal(got.SubjectKeys, []string{"k1", "k6"}) {
		t.Fatalf("credential named by actor: %v %+v", err, got)
	}
	got, err = s.BlastRadius(ctx, win(store.BlastQuery{Credential: "token:tk1", Dataset: "b"}))
	if err != nil || got.Entries != 1 || got.Subjects != 2 || len(got.Datasets) != 1 || got.Datasets[0].Dataset != "b" {
		t.Fatalf("credential in one dataset: %v %+v", err, got)
	}
	// Dataset a alone: every allowed entry of it in the window.
	got, err = s.BlastRadius(ctx, win(store.BlastQuery{Dataset: "a"}))
	if err != nil || got.Entries != 6 || got.Records != 17 || got.Subjects != 7 || got.Datasets[0].Subjects != 7 {
		t.Fatalf("dataset alone: %v %+v", err, got)
	}
	for _, c := range []string{"token:nobody", "nonsense", "token:"} {
		if got, err := s.BlastRadius(ctx, win(store.BlastQuery{Credential: c})); err != nil || got.Entries != 0 || got.Subjects != 0 || got.Datasets != nil {
			t.Fatalf("%q reaches nothing: %v %+v", c, err, got)
		}
	}

	// The event store: what dataset a holds, received in the window.
	evs := []store.Event{ev("a", "e1", h(0), "s1"), ev("a", "e2", h(1), "s1"), ev("a", "e3", h(2), "s2"), ev("a", "", h(3), ""),
		ev("a", "e5", h(10), "s3"), ev("b", "e6", h(1), "s4")}
	if _, err := s.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err = s.EventBlastRadius(ctx, store.EventBlastQuery{Dataset: "a", From: h(0), To: h(10), KeysCap: 1})
	if err != nil || got.Records != 4 || got.Entries != 0 || got.Subjects != 2 || !got.KeysTruncated || !slices.Equal(got.SubjectKeys, []string{"s1"}) ||
		len(got.Datasets) != 1 || !got.Datasets[0].First.Equal(h(0)) || !got.Datasets[0].Last.Equal(h(3)) {
		t.Fatalf("event store: %v %+v", err, got)
	}
	if got, err := s.EventBlastRadius(ctx, store.EventBlastQuery{Dataset: "c", From: h(0), To: h(10), KeysCap: 1}); err != nil || got.Records != 0 || got.Datasets != nil {
		t.Fatalf("empty dataset: %v %+v", err, got)
	}
}
