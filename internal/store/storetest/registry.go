package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/steward-privacy/steward/internal/store"
)

func registryVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	if head, err := s.RegistryHead(ctx); err != nil || head != 0 {
		t.Fatalf("empty head: %d %v", head, err)
	}
	if _, err := s.GetRegistryVersion(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown version: %v", err)
	}
	v := store.RegistryVersion{YAML: []byte("datasets: {}\n"), Digest: "d1", Fingerprints: map[string]string{"a": "f1", "a.x": "f2"},
		ApprovedBy: "operator", Note: "loaded at start-up from r.yaml", CreatedAt: t0}
	got, added, err := s.AddRegistryVersion(ctx, v, true)
	if err != nil || !added || got.Version != 1 {
		t.Fatalf("first add: %+v %v %v", got, added, err)
	}
	// The same text again is not a new version when asked so, and is when not.
	if got, added, err := s.AddRegistryVersion(ctx, v, true); err != nil || added || got.Version != 1 || string(got.YAML) != string(v.YAML) {
		t.Fatalf("unchanged add: %+v %v %v", got, added, err)
	}
	if got, added, err := s.AddRegistryVersion(ctx, v, false); err != nil || !added || got.Version != 2 {
		t.Fatalf("forced add: %+v %v %v", got, added, err)
	}
	one, err := s.GetRegistryVersion(ctx, 1)
	if err != nil || one.Digest != "d1" || one.Fingerprints["a.x"] != "f2" || one.ApprovedBy != "operator" || !one.CreatedAt.Equal(t0) || string(one.YAML) != string(v.YAML) {
		t.Fatalf("get: %+v %v", one, err)
	}
	// Concurrent publishers take consecutive numbers, never the same one.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := v
			w.Digest = string(rune('a' + i))
			_, _, err := s.AddRegistryVersion(ctx, w, true)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListRegistryVersions(ctx)
	if err != nil || len(list) != 10 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	for i, l := range list {
		if l.Version != int64(i+1) || l.YAML != nil {
			t.Fatalf("list[%d]: version %d, yaml %q", i, l.Version, l.YAML)
		}
	}
	if head, _ := s.RegistryHead(ctx); head != 10 {
		t.Fatalf("head %d", head)
	}
}
