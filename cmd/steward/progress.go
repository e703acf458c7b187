package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressDelay is how long work runs before a bar appears: quick work
// (most logs, most migrations) finishes without one flashing past.
var progressDelay = time.Second

// progressOut is where bars are drawn.
var progressOut io.Writer = os.Stderr

// stderrIsTerminal decides whether progress is drawn: only for a person
// watching a terminal. Piped or redirected, a command prints its results
// and nothing else (tests replace it).
var stderrIsTerminal = func() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// progress draws one bar (or, with no known total, a spinner) on w once
// the work has run for progressDelay. A nil *progress draws nothing, so
// callers need not care whether anyone is watching.
type progress struct {
	w     io.Writer
	what  string
	total int64 // -1: unknown
	start time.Time
	bar   *progressbar.ProgressBar
}

// newProgress returns nil unless stderr is a terminal.
func newProgress(what string, total int64) *progress {
	if !stderrIsTerminal() {
		return nil
	}
	return &progress{w: progressOut, what: what, total: total, start: time.Now()}
}

// Set reports how much is done; total may change as it becomes known.
func (p *progress) Set(done, total int64) {
	if p == nil {
		return
	}
	if p.bar == nil {
		if total > 0 {
			p.total = total
		}
		if time.Since(p.start) < progressDelay {
			return
		}
		p.bar = progressbar.NewOptions64(p.total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.what),
			progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(p.total > 0),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30),
			progressbar.OptionSpinnerType(14))
	}
	if total > 0 && p.total > 0 && total != p.total {
		p.total = total
		p.bar.ChangeMax64(total)
	}
	_ = p.bar.Set64(done)
}

// Done clears the bar, so the command's own lines follow on a clean line.
func (p *progress) Done() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

// During shows a spinner while fn runs, for work whose size is unknown
// (applying migrations).
func (p *progress) During(fn func() error) error {
	if p == nil {
		return fn()
	}
	// The first frame at once, so the spinner's showing depends only on
	// progressDelay, not on whether the work outlasts the first tick.
	p.Set(0, -1)
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for n := int64(1); ; n++ {
			select {
			case <-done:
				return
			case <-t.C:
				p.Set(n, -1) // a spinner turns as its count moves
			}
		}
	}()
	err := fn()
	close(done)
	<-stopped
	p.Done()
	return err
}
