package accesslog

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

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

// Anchor is an entry's hash recorded outside steward (`steward log head`
// copied to a ticket, a notary, another system). The chain alone proves
// that no entry was changed in place; an anchor also proves that the log
// was not rewritten from some entry onward, or cut short, after it.
type Anchor struct {
	Seq  int64
	Hash []byte
}

// ParseAnchor reads "SEQ:HEXHASH", the first two fields `steward log
// head` prints joined by a colon.
func ParseAnchor(s string) (Anchor, error) {
	seqText, hashText, ok := strings.Cut(s, ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 1 {
		return Anchor{}, fmt.Errorf("anchor %q: want SEQ:HASH, e.g. 1042:9f86d0…", s)
	}
	h, err := hex.DecodeString(hashText)
	if err != nil || len(h) != 32 {
		return Anchor{}, fmt.Errorf("anchor %q: the hash must be 64 hex digits", s)
	}
	return Anchor{Seq: seq, Hash: h}, nil
}

// Verify checks every entry's hash and link, in order, from the first
// entry, and that each anchor's entry is present with the anchored hash. Reading is sequential; hashing runs on the other cores while the
// link check stays in order, so a long log verifies at scan speed.
func Verify(ctx context.Context, st store.AccessLog, anchors ...Anchor) (Result, error) {
	want := map[int64][]byte{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
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
				if h, ok := want[b.entries[i].Seq]; ok {
					if !bytes.Equal(h, b.entries[i].Hash) {
						failed = &Break{Seq: b.entries[i].Seq, Reason: "its hash differs from the anchor recorded elsewhere (the log was rewritten from here on)"}
						break
					}
					delete(want, b.entries[i].Seq)
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
	if failed == nil && scanErr == nil && len(want) > 0 {
		missing := slices.Min(slices.Collect(maps.Keys(want)))
		failed = &Break{Seq: missing, Reason: fmt.Sprintf("the anchored entry is missing: the log ends at %d (it was cut short)", res.HeadSeq)}
	}
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
