package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Ticker runs the work the calendar causes, for every domain, from one
// loop: each registered func at start (resuming what a crash interrupted)
// and then every Interval. The funcs read time from their own clock, so a
// test moves a fake clock and calls Tick instead of waiting.
type Ticker struct {
	// Interval between runs; zero is a minute.
	Interval time.Duration
	Log      *slog.Logger

	mu   sync.Mutex
	jobs []job
}

type job struct {
	name string
	run  func(context.Context) error
}

// Add registers run under name (for logs and errors). Funcs run in the
// order added, one at a time.
func (t *Ticker) Add(name string, run func(context.Context) error) {
	t.mu.Lock()
	t.jobs = append(t.jobs, job{name, run})
	t.mu.Unlock()
}

// Tick runs every func once. One failing does not stop the rest; the
// errors come back together, each under its func's name.
func (t *Ticker) Tick(ctx context.Context) error {
	var errs []error
	t.each(ctx, func(name string, err error) { errs = append(errs, fmt.Errorf("%s: %w", name, err)) })
	return errors.Join(errs...)
}

func (t *Ticker) each(ctx context.Context, failed func(name string, err error)) {
	t.mu.Lock()
	jobs := append([]job(nil), t.jobs...)
	t.mu.Unlock()
	for _, j := range jobs {
		if err := j.run(ctx); err != nil {
			failed(j.name, err)
		}
	}
}

// Run ticks at once and then every Interval until ctx ends, logging each
// func's failure; the next tick tries again.
func (t *Ticker) Run(ctx context.Context) {
	every := t.Interval
	if every <= 0 {
		every = time.Minute
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		t.each(ctx, func(name string, err error) {
			if ctx.Err() == nil && t.Log != nil {
				t.Log.Error("scheduled work failed", "job", name, "err", err)
			}
		})
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}
