package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// TestBatchesWhileACommitIsInFlight: callers arriving during a slow commit
// share the next one, each returns only after its commit, and the batch
// limit holds.
func TestBatchesWhileACommitIsInFlight(t *testing.T) {
	release := make(chan struct{})
	var commits [][]int
	var mu sync.Mutex
	g := New(Config[int]{Queue: 100, MaxBatch: 4, Commit: func(_ context.Context, items []int) error {
		mu.Lock()
		commits = append(commits, append([]int(nil), items...))
		first := len(commits) == 1
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	}})
	var returned atomic.Int32
	var wg sync.WaitGroup
	wg.Go(func() { g.Do(context.Background(), 0); returned.Add(1) })
	for !committing(&mu, &commits) {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= 6; i++ {
		wg.Go(func() { g.Do(context.Background(), i); returned.Add(1) })
	}
	for len(g.in) < 6 {
		time.Sleep(time.Millisecond)
	}
	if returned.Load() != 0 {
		t.Fatal("a caller returned before its commit")
	}
	close(release)
	wg.Wait()
	g.Close()
	if len(commits) != 3 || len(commits[1]) != 4 || len(commits[2]) != 2 {
		t.Fatalf("commits %v, want [0] then 4 then 2", commits)
	}
}

func committing(mu *sync.Mutex, c *[][]int) bool {
	mu.Lock()
	defer mu.Unlock()
	return len(*c) > 0
}

func TestErrorsAndClose(t *testing.T) {
	boom := errors.New("disk full")
	g := New(Config[int]{Queue: 1, MaxBatch: 10, Commit: func(context.Context, []int) error { return boom }})
	if err := g.Do(context.Background(), 1); !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, boom) {
		t.Fatalf("commit error: %v", err)
	}
	g.Close()
	if err := g.Do(context.Background(), 1); !errors.Is(err, ErrClosed) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("after close: %v", err)
	}
}

func TestFullQueue(t *testing.T) {
	block := make(chan struct{})
	mk := func(failFast bool) (*Group[int], chan struct{}) {
		started := make(chan struct{}, 1)
		return New(Config[int]{Queue: 1, MaxBatch: 1, FailFast: failFast, Commit: func(context.Context, []int) error {
			select {
			case started <- struct{}{}:
			default:
			}
			<-block
			return nil
		}}), started
	}
	fast, fastStarted := mk(true)
	slow, slowStarted := mk(false)
	for _, g := range []struct {
		g       *Group[int]
		started chan struct{}
	}{{fast, fastStarted}, {slow, slowStarted}} {
		go g.g.Do(context.Background(), 1) // taken by the writer, blocked in commit
		<-g.started
		go g.g.Do(context.Background(), 2) // fills the queue
		for len(g.g.in) != 1 {
			time.Sleep(time.Millisecond)
		}
	}
	if err := fast.Do(context.Background(), 3); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("fail fast: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := slow.Do(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting caller: %v", err)
	}
	close(block)
	fast.Close()
	slow.Close()
}
