package accesslog

import (
	"context"
	"errors"
	"math"
	"runtime"

	"github.com/steward-privacy/steward/internal/store"
)

// Result is the outcome of verifying the whole log.
type Result struct {
	Checked  int64
	HeadSeq  int64
	HeadHash []byte
	// Break is the first entry where the chain fails; nil when it holds.
	Break *Break
}

// Verify checks every entry's hash and link, in order, from the first
// entry. Reading is sequential; hashing runs on the other cores while the
// link check stays in order, so a long log verifies at scan speed.
func Verify(ctx context.Context, st store.AccessLog) (Result, error) {
	const chunk = 1024
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	type batch struct {
		entries []Entry
		sums    [][32]byte
		done    chan struct{}
	}
	jobs := make(chan *batch, 2*workers)
	ordered := make(chan *batch, 4*workers)
	for range workers {
		go func() {
			for b := range jobs {
				for i := range b.entries {
					copy(b.sums[i][:], ComputeHash(&b.entries[i]))
				}
				close(b.done)
			}
		}()
	}
	// The checker consumes batches in scan order.
	var res Result
	checked := make(chan error, 1)
	go func() {
		v := NewVerifier()
		var failed error
		for b := range ordered {
			<-b.done
			if failed != nil {
				continue
			}
			for i := range b.entries {
				if err := v.checkHashed(&b.entries[i], b.sums[i][:]); err != nil {
					failed = err
					break
				}
				res.HeadSeq, res.HeadHash = b.entries[i].Seq, b.entries[i].Hash
			}
		}
		res.Checked = v.Checked
		checked <- failed
	}()
	cur := &batch{done: make(chan struct{})}
	flush := func() {
		cur.sums = make([][32]byte, len(cur.entries))
		ordered <- cur
		jobs <- cur
		cur = &batch{entries: make([]Entry, 0, chunk), done: make(chan struct{})}
	}
	// From the very bottom, so a row slipped in below seq 1 is caught.
	scanErr := st.ScanAccess(ctx, math.MinInt64, func(e *Entry) error {
		if e.Seq < 1 {
			return &Break{Seq: e.Seq, Reason: "placed before the first entry (inserted)"}
		}
		cur.entries = append(cur.entries, *e)
		if len(cur.entries) == chunk {
			flush()
		}
		return nil
	})
	if len(cur.entries) > 0 {
		flush()
	}
	close(jobs)
	close(ordered)
	failed := <-checked
	var br *Break
	switch {
	case errors.As(failed, &br):
		res.Break = br
	case errors.As(scanErr, &br):
		res.Break = br
	case scanErr != nil:
		return res, scanErr
	}
	return res, nil
}
