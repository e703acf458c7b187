package workflow

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
)

// TestTickerTickRunsEveryFuncWithTheMovedClock: funcs run in order, a
// failure does not stop the rest, and each func sees the clock the test
// moved.
func TestTickerTickRunsEveryFuncWithTheMovedClock(t *testing.T) {
	c := clock.NewFake(t0)
	var seen []string
	tk := &Ticker{}
	tk.Add("requests", func(context.Context) error {
		seen = append(seen, "requests@"+c.Now().Format(time.DateOnly))
		return errors.New("store down")
	})
	tk.Add("sessions", func(context.Context) error {
		seen = append(seen, "sessions@"+c.Now().Format(time.DateOnly))
		return nil
	})
	if err := tk.Tick(context.Background()); err == nil || err.Error() != "requests: store down" {
		t.Fatalf("tick error: %v", err)
	}
	c.Advance(31 * 24 * time.Hour)
	tk.Tick(context.Background())
	want := "requests@2026-11-22 sessions@2026-11-22 requests@2026-12-23 sessions@2026-12-23"
	if strings.Join(seen, " ") != want {
		t.Fatalf("ran %v\nwant %s", seen, want)
	}
}

// TestTickerRunTicksAtStartAndEveryInterval, logging failures, until its
// context ends.
func TestTickerRunTicksAtStartAndEveryInterval(t *testing.T) {
	var logs syncBuffer
	tk := &Ticker{Interval: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	runs := make(chan struct{}, 100)
	tk.Add("job", func(context.Context) error {
		runs <- struct{}{}
		return errors.New("boom")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tk.Run(ctx); close(done) }()
	for i := range 3 { // the first at start, then on the interval
		select {
		case <-runs:
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d did not come", i)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if l := logs.String(); !strings.Contains(l, "scheduled work failed") || !strings.Contains(l, "job=job") || !strings.Contains(l, "err=boom") {
		t.Fatalf("log: %s", l)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
