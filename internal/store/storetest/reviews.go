package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

func reviews(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.GetProposal(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown proposal: %v", err)
	}
	mk := func(title, owner, state string, cat int, required ...string) store.Proposal {
		p := store.Proposal{Title: title, Owner: owner, Links: []string{"https://tracker.example/1"}, State: state, BaseVersion: 1,
			YAML: []byte("datasets: {}\n"), Digest: "d", Revision: 1, Answers: map[string]string{"questions": "how many?"},
			MaxCategory: cat, Required: required, CreatedAt: t0, UpdatedAt: t0, StateAt: t0}
		err := s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateProposal(ctx, &p); err != nil {
				return err
			}
			return tx.AppendProposalEvent(ctx, store.ProposalEvent{ProposalID: p.ID, At: t0, Actor: owner, To: state, Note: "proposed"})
		})
		if err != nil || p.ID == 0 || p.Version != 1 {
			t.Fatalf("create: %+v %v", p, err)
		}
		return p
	}
	a := mk("a", "dev@example.org", "draft", 2, "data_steward")
	b := mk("b", "other@example.org", "in_review", 3, "privacy_reviewer", "legal_reviewer", "security_reviewer")
	got, err := s.GetProposal(ctx, a.ID)
	if err != nil || got.Title != "a" || got.Answers["questions"] != "how many?" || !slices.Equal(got.Links, a.Links) ||
		!slices.Equal(got.Required, []string{"data_steward"}) || !got.CreatedAt.Equal(t0) || string(got.YAML) != "datasets: {}\n" {
		t.Fatalf("get: %+v %v", got, err)
	}

	// The version check: a second writer holding the old version loses.
	stale := got
	got.State, got.Revision, got.UpdatedAt = "in_review", 2, t0.Add(time.Hour)
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateProposal(ctx, &got) }); err != nil || got.Version != 2 {
		t.Fatalf("update: %v %d", err, got.Version)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateProposal(ctx, &stale) }); !errors.Is(err, store.ErrConflict) || stale.Version != 1 {
		t.Fatalf("stale update: %v %d", err, stale.Version)
	}

	for _, c := range []struct {
		q    store.ProposalQuery
		want []int64
	}{
		{store.ProposalQuery{}, []int64{b.ID, a.ID}},
		{store.ProposalQuery{States: []string{"in_review"}}, []int64{b.ID, a.ID}},
		{store.ProposalQuery{States: []string{"draft"}}, nil},
		{store.ProposalQuery{Owner: "other@example.org"}, []int64{b.ID}},
		{store.ProposalQuery{MinCategory: 3}, []int64{b.ID}},
		{store.ProposalQuery{Role: "legal_reviewer"}, []int64{b.ID}},
		{store.ProposalQuery{Role: "data_steward"}, []int64{a.ID}},
		{store.ProposalQuery{Before: b.ID}, []int64{a.ID}},
		{store.ProposalQuery{Limit: 1}, []int64{b.ID}},
	} {
		ps, err := s.ListProposals(ctx, c.q)
		var ids []int64
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		if err != nil || !slices.Equal(ids, c.want) {
			t.Errorf("list %+v: %v %v, want %v", c.q, ids, err, c.want)
		}
	}

	// Sign-offs: one per reviewer per revision; concurrent reviewers both count.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, who := range []string{"privacy@example.org", "legal@example.org"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.InTx(ctx, func(tx store.Tx) error {
				return tx.AddSignOff(ctx, store.SignOff{ProposalID: b.ID, Revision: 1, Role: "privacy_reviewer", Reviewer: who, Decision: "approve",
					Checklist: map[string]string{"documentation": "yes"}, Mitigations: []string{"shorter retention"}, Covered: map[string]string{"d.f": "fp"}, At: t0})
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent sign-off: %v", err)
		}
	}
	dup := store.SignOff{ProposalID: b.ID, Revision: 1, Role: "legal_reviewer", Reviewer: "legal@example.org", Decision: "reject", At: t0}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.AddSignOff(ctx, dup) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second answer on one revision: %v", err)
	}
	dup.Revision = 2
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.AddSignOff(ctx, dup) }); err != nil {
		t.Fatalf("answer on the next revision: %v", err)
	}
	sos, err := s.ListSignOffs(ctx, b.ID)
	if err != nil || len(sos) != 3 || sos[0].Checklist["documentation"] != "yes" || sos[0].Covered["d.f"] != "fp" ||
		!slices.Equal(sos[0].Mitigations, []string{"shorter retention"}) || sos[2].Decision != "reject" || !sos[2].At.Equal(t0) {
		t.Fatalf("sign-offs: %+v %v", sos, err)
	}

	if err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.AddReviewNote(ctx, store.ReviewNote{ProposalID: b.ID, Kind: "position", Author: "legal@example.org", Role: "legal_reviewer", Text: "keep 30 days", At: t0})
	}); err != nil {
		t.Fatal(err)
	}
	notes, err := s.ListReviewNotes(ctx, b.ID)
	if err != nil || len(notes) != 1 || notes[0].Text != "keep 30 days" || notes[0].Kind != "position" {
		t.Fatalf("notes: %+v %v", notes, err)
	}
	h, err := s.ProposalHistory(ctx, a.ID)
	if err != nil || len(h) != 1 || h[0].Note != "proposed" || h[0].To != "draft" || !h[0].At.Equal(t0) {
		t.Fatalf("history: %+v %v", h, err)
	}

	// A version published with its approval is numbered after the others
	// and records the proposal; a failed approval publishes nothing.
	if _, _, err := s.AddRegistryVersion(ctx, store.RegistryVersion{YAML: []byte("x"), Digest: "x", Fingerprints: map[string]string{}, ApprovedBy: "operator", CreatedAt: t0}, false); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.PublishRegistryVersion(ctx, store.RegistryVersion{YAML: []byte("y"), Digest: "y", Fingerprints: map[string]string{}, CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var n int64
	if err := s.InTx(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.PublishRegistryVersion(ctx, store.RegistryVersion{YAML: []byte("z"), Digest: "z", Fingerprints: map[string]string{"d": "f"},
			ApprovedBy: "review", Proposal: b.ID, CreatedAt: t0})
		return err
	}); err != nil || n != 2 {
		t.Fatalf("publish in tx: %d %v", n, err)
	}
	v, err := s.GetRegistryVersion(ctx, 2)
	if err != nil || v.Proposal != b.ID || string(v.YAML) != "z" || v.Fingerprints["d"] != "f" {
		t.Fatalf("published version: %+v %v", v, err)
	}

	// Expiry notices go once per key and date.
	exp := t0.AddDate(0, 0, 14)
	mark := func(expires, at time.Time) (ok bool, err error) {
		err = s.InTx(ctx, func(tx store.Tx) error {
			ok, err = tx.MarkExpiryNotice(ctx, "d.f", expires, at)
			return err
		})
		return ok, err
	}
	if ok, err := mark(exp, t0); err != nil || !ok {
		t.Fatalf("first notice: %v %v", ok, err)
	}
	if ok, err := mark(exp, t0.Add(time.Minute)); err != nil || ok {
		t.Fatalf("repeated notice: %v %v", ok, err)
	}
	if ok, err := mark(exp.AddDate(0, 6, 0), t0); err != nil || !ok {
		t.Fatalf("notice for a renewed date: %v %v", ok, err)
	}
}
