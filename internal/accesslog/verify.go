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
	"sync"

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
// entry up to the head it finds at the start, and that each anchor's entry
// is present with the anchored hash. The log is read in spans of seq on
// several connections at once, each span hashed by its reader; one checker
// then walks the spans in order, so a long log verifies at the speed of
// all cores rather than one row decoder.
func Verify(ctx context.Context, st store.AccessLog, anchors ...Anchor) (Result, error) {
	want := map[int64][]byte{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
	var res Result
	// A row placed below the first entry is a break in its own right.
	err := st.ScanAccess(ctx, math.MinInt64, 0, func(e *Entry) error {
		return &Break{Seq: e.Seq, Reason: "placed before the first entry (inserted)"}
	})
	var br *Break
	if errors.As(err, &br) {
		res.Break = br
		return res, nil
	} else if err != nil {
		return res, err
	}
	var head int64
	switch h, err := st.AccessHead(ctx); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return res, err
	default:
		head = h.Seq
	}

	const span = 8192
	readers := max(2, runtime.GOMAXPROCS(0))
	type part struct {
		entries []Entry
		sums    [][32]byte
		err     error
		done    chan struct{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// parts holds the spans being read, in order; its capacity bounds how
	// far readers run ahead of the checker (and so the memory used).
	parts := make(chan *part, 2*readers)
	jobs := make(chan struct {
		p        *part
		from, to int64
	}, 2*readers)
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.p.err = st.ScanAccess(ctx, j.from, j.to, func(e *Entry) error {
					j.p.entries = append(j.p.entries, *e)
					return nil
				})
				j.p.sums = make([][32]byte, len(j.p.entries))
				for i := range j.p.entries {
					copy(j.p.sums[i][:], ComputeHash(&j.p.entries[i]))
				}
				close(j.p.done)
			}
		}()
	}
	go func() {
		defer close(parts)
		defer close(jobs)
		for from := int64(0); from < head; from += span {
			p := &part{entries: make([]Entry, 0, span), done: make(chan struct{})}
			select {
			case parts <- p:
			case <-ctx.Done():
				return
			}
			jobs <- struct {
				p        *part
				from, to int64
			}{p, from, min(from+span, head)}
		}
	}()

	v := NewVerifier()
	var failed error
	for p := range parts {
		<-p.done
		if failed != nil {
			continue
		}
		if p.err != nil {
			failed = p.err
			cancel()
			continue
		}
		for i := range p.entries {
			e := &p.entries[i]
			if err := v.checkHashed(e, p.sums[i][:]); err != nil {
				failed = err
				break
			}
			if h, ok := want[e.Seq]; ok {
				if !bytes.Equal(h, e.Hash) {
					failed = &Break{Seq: e.Seq, Reason: "its hash differs from the anchor recorded elsewhere (the log was rewritten from here on)"}
					break
				}
				delete(want, e.Seq)
			}
			res.HeadSeq, res.HeadHash = e.Seq, e.Hash
		}
		if failed != nil {
			cancel()
		}
	}
	wg.Wait()
	res.Checked = v.Checked
	if failed == nil && v.nextSeq <= head {
		// Rows at the end of the range were missing.
		failed = &Break{Seq: v.nextSeq, Reason: fmt.Sprintf("missing: the log's head is %d (deleted)", head)}
	}
	if failed == nil && len(want) > 0 {
		missing := slices.Min(slices.Collect(maps.Keys(want)))
		failed = &Break{Seq: missing, Reason: fmt.Sprintf("the anchored entry is missing: the log ends at %d (it was cut short)", res.HeadSeq)}
	}
	if errors.As(failed, &br) {
		res.Break = br
		return res, nil
	}
	return res, failed
}
