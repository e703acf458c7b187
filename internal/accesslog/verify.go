package accesslog

import (
	"bytes"
	"context"
	"crypto/ed25519"
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
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// Result is the outcome of verifying the whole log.
type Result struct {
	Checked  int64
	HeadSeq  int64
	HeadHash []byte
	// Checkpoints is how many stored checkpoints were checked, and Latest
	// the one of the highest seq (zero without any); Witnessed is how many
	// of Options.Witnessed were.
	Checkpoints int
	Latest      store.AccessCheckpoint
	Witnessed   int
	// Break is the first entry where the chain fails; nil when it holds.
	Break *Break
}

// Options are what Verify holds the log against besides its own chain.
type Options struct {
	// Anchors are heads recorded by hand elsewhere.
	Anchors []Anchor
	// Key checks the stored checkpoints' signatures: this server's
	// CheckpointKey. With checkpoints stored and no Key, Verify returns an
	// error rather than skip them.
	Key ed25519.PublicKey
	// Witnessed are signed checkpoints kept outside the database, under a
	// name for messages (the file they came from).
	Witnessed []Witnessed
	// Progress, when set, is told after each span how many entries are
	// checked of the head's seq (for a progress bar).
	Progress func(checked, head int64)
}

// Witnessed is a signed checkpoint document from the witness.
type Witnessed struct {
	Name   string
	Signed string
}

// Anchor is an entry's hash recorded outside steward (`steward log head`
// copied to a ticket, a notary, another system), or signed in a
// checkpoint. The chain alone proves that no entry was changed in place;
// an anchor also proves that the log was not rewritten from some entry
// onward, or cut short, after it.
type Anchor struct {
	Seq  int64
	Hash []byte
	// Source names the anchor in messages; empty for one given by hand.
	Source string
}

func (a Anchor) source() string {
	if a.Source == "" {
		return "the anchor recorded elsewhere"
	}
	return a.Source
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

// CheckpointName is how messages name a stored checkpoint.
func CheckpointName(c store.AccessCheckpoint) string {
	return fmt.Sprintf("checkpoint #%d (entry %d, signed %s)", c.ID, c.Seq, c.SignedAt.Format(time.RFC3339))
}

// checkpointAnchors checks every stored and witnessed checkpoint's
// signature and turns each into an anchor. A checkpoint that does not
// verify is a Break of its own (Forged), at the entry it names.
//
// It returns the anchors of stored checkpoints and of given anchors, those
// of witnessed checkpoints apart, and the stored checkpoints' hashes by seq.
func checkpointAnchors(ctx context.Context, st store.AccessLog, opt Options, res *Result) (anchors, witnessed []Anchor, have map[int64][]byte, br *Break, err error) {
	stored, err := st.AccessCheckpoints(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if (len(stored) > 0 || len(opt.Witnessed) > 0) && opt.Key == nil {
		return nil, nil, nil, nil, fmt.Errorf("%d signed checkpoint(s) to check, but no key to check them with", len(stored)+len(opt.Witnessed))
	}
	anchors = slices.Clone(opt.Anchors)
	have = map[int64][]byte{}
	for _, c := range stored {
		name := CheckpointName(c)
		got, err := OpenCheckpoint(c.Signed, opt.Key)
		if err != nil {
			return nil, nil, nil, &Break{Seq: c.Seq, Forged: true, Reason: name + ": " + err.Error()}, nil
		}
		if got.Seq != c.Seq || !bytes.Equal(got.Hash, c.Hash) {
			return nil, nil, nil, &Break{Seq: c.Seq, Forged: true, Reason: fmt.Sprintf("%s: its stored seq and hash differ from what it signed (entry %d, %x…)", name, got.Seq, got.Hash[:6])}, nil
		}
		anchors = append(anchors, Anchor{Seq: c.Seq, Hash: c.Hash, Source: name})
		have[c.Seq] = c.Hash
		res.Checkpoints++
		res.Latest = c
	}
	for _, w := range opt.Witnessed {
		got, err := OpenCheckpoint(w.Signed, opt.Key)
		if err != nil {
			return nil, nil, nil, &Break{Forged: true, Reason: fmt.Sprintf("the checkpoint from %s: %s", w.Name, err)}, nil
		}
		witnessed = append(witnessed, Anchor{Seq: got.Seq, Hash: got.Hash,
			Source: fmt.Sprintf("the checkpoint from %s (entry %d, signed %s)", w.Name, got.Seq, got.SignedAt.Format(time.RFC3339))})
		res.Witnessed++
	}
	return anchors, witnessed, have, nil, nil
}

// Verify checks every entry's hash and link, in order, from the first
// entry up to the head it finds at the start; that the subject index holds
// exactly the subject keys each entry names (the index is what a search
// by subject reads, and it is outside the hashes); that every stored and
// witnessed checkpoint is signed by opt.Key; and that each checkpoint's
// and anchor's entry is present with the hash recorded. The log is read in
// spans of seq on several connections at once, each span hashed and its
// index rows compared by its reader; one checker then walks the spans in
// order, so a long log verifies at the speed of all cores rather than one
// row decoder.
func Verify(ctx context.Context, st store.AccessLog, opt Options) (Result, error) {
	var res Result
	// Checkpoints are read before the head, so none names an entry past it.
	anchors, witnessed, storedCheckpoints, br, err := checkpointAnchors(ctx, st, opt, &res)
	if err != nil || br != nil {
		res.Break = br
		return res, err
	}
	want := map[int64][]Anchor{}
	for _, a := range append(anchors, witnessed...) {
		want[a.Seq] = append(want[a.Seq], a)
	}
	// A row placed below the first entry is a break in its own right.
	err = st.ScanAccess(ctx, math.MinInt64, 0, func(e *Entry) error {
		return &Break{Seq: e.Seq, Reason: "placed before the first entry (inserted)"}
	})
	if err == nil {
		err = st.ScanAccessSubjects(ctx, math.MinInt64, 0, func(seq int64, _ string) error { return orphan(seq) })
	}
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
		// index holds, per entry, why the subject index disagrees with
		// it ("" when it agrees); orphans the seqs the index names that
		// have no entry in the span.
		index   []string
		orphans []int64
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
				if j.p.err == nil {
					j.p.index, j.p.orphans, j.p.err = compareIndex(ctx, st, j.p.entries, j.from, j.to)
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
	// confirmed is the last entry an anchor confirmed: a rewrite found at
	// a later anchor happened after it.
	var confirmed int64
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
			for _, a := range want[e.Seq] {
				if !bytes.Equal(a.Hash, e.Hash) {
					failed = &Break{Seq: e.Seq, Reason: fmt.Sprintf("its hash differs from the one in %s: %s was rewritten after that was recorded, and every later hash recomputed",
						a.source(), rewritten(confirmed+1, e.Seq))}
					break
				}
			}
			if failed == nil && len(want[e.Seq]) > 0 {
				confirmed = e.Seq
			}
			if failed == nil && p.index[i] != "" {
				failed = &Break{Seq: e.Seq, Reason: p.index[i]}
			}
			if failed != nil {
				v.Checked-- // its chain held, but it did not verify
				break
			}
			delete(want, e.Seq)
			res.HeadSeq, res.HeadHash = e.Seq, e.Hash
		}
		if failed == nil && len(p.orphans) > 0 {
			failed = orphan(p.orphans[0])
		}
		if failed == nil && opt.Progress != nil {
			opt.Progress(v.Checked, head)
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
		failed = &Break{Seq: missing, Reason: fmt.Sprintf("%s names it, but it is missing: the log ends at %d (it was cut short)", want[missing][0].source(), res.HeadSeq)}
	}
	if failed == nil {
		failed = indexPastHead(ctx, st, head)
	}
	if failed == nil {
		// A witnessed checkpoint that matches but is not stored: the
		// stored ones were deleted (or the database is an older backup).
		for _, a := range witnessed {
			if h, ok := storedCheckpoints[a.Seq]; !ok || !bytes.Equal(h, a.Hash) {
				failed = &Break{Seq: a.Seq, Reason: a.source() + " matches the log but is not among the stored checkpoints: they were deleted, or the database was restored from an older backup"}
				break
			}
		}
	}
	if errors.As(failed, &br) {
		res.Break = br
		return res, nil
	}
	return res, failed
}

// rewritten names the entries one of which a rewrite changed: those
// after the last one an anchor confirmed, up to the one that disagrees.
func rewritten(from, to int64) string {
	if from == to {
		return "this entry"
	}
	return fmt.Sprintf("an entry from %d to %d", from, to)
}

func orphan(seq int64) *Break {
	return &Break{Seq: seq, Reason: "the subject index names this entry, which is not in the log (rows added to the index)"}
}

// compareIndex reads the subject index rows of entries (from, to] and says
// per entry whether they are exactly its own subject keys, and which seqs
// the index names without an entry.
func compareIndex(ctx context.Context, st store.AccessLog, entries []Entry, from, to int64) ([]string, []int64, error) {
	reasons := make([]string, len(entries))
	var orphans []int64
	next := 0 // the first entry not settled yet
	settle := func(seq int64, keys []string) {
		for next < len(entries) && entries[next].Seq < seq {
			reasons[next] = indexDiff(&entries[next], nil)
			next++
		}
		if next < len(entries) && entries[next].Seq == seq {
			reasons[next] = indexDiff(&entries[next], keys)
			next++
		} else {
			orphans = append(orphans, seq)
		}
	}
	var cur int64
	var keys []string
	started := false
	err := st.ScanAccessSubjects(ctx, from, to, func(seq int64, key string) error {
		if started && seq != cur {
			settle(cur, keys)
			keys = keys[:0]
		}
		started, cur = true, seq
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if started {
		settle(cur, keys)
	}
	for ; next < len(entries); next++ {
		reasons[next] = indexDiff(&entries[next], nil)
	}
	return reasons, orphans, nil
}

// indexDiff compares an entry's subject keys (sorted, as Seal leaves them;
// a repeated key has one row) with its index rows.
func indexDiff(e *Entry, index []string) string {
	own := e.SubjectKeys
	if !slices.IsSorted(own) {
		own = slices.Sorted(slices.Values(own)) // only an edited entry
	}
	slices.Sort(index)
	i, j := 0, 0
	for i < len(own) || j < len(index) {
		if i > 0 && i < len(own) && own[i] == own[i-1] {
			i++
			continue
		}
		switch {
		case j == len(index) || i < len(own) && own[i] < index[j]:
			return fmt.Sprintf("the subject index lacks its subject key %s (rows removed: a search by that subject no longer finds this entry)", short(own[i]))
		case i == len(own) || index[j] < own[i]:
			return fmt.Sprintf("the subject index gives it subject key %s, which the entry does not name (rows added to the index)", short(index[j]))
		}
		i++
		j++
	}
	return ""
}

// indexPastHead checks the index rows of entries appended since the head
// was read: each must belong to an entry. The index is read first, so an
// entry committed with its rows after that read is found by the second.
func indexPastHead(ctx context.Context, st store.AccessLog, head int64) error {
	var seqs []int64
	if err := st.ScanAccessSubjects(ctx, head, math.MaxInt64, func(seq int64, _ string) error {
		if len(seqs) == 0 || seqs[len(seqs)-1] != seq {
			seqs = append(seqs, seq)
		}
		return nil
	}); err != nil || len(seqs) == 0 {
		return err
	}
	present := map[int64]bool{}
	if err := st.ScanAccess(ctx, head, math.MaxInt64, func(e *Entry) error { present[e.Seq] = true; return nil }); err != nil {
		return err
	}
	for _, s := range seqs {
		if !present[s] {
			return orphan(s)
		}
	}
	return nil
}

func short(key string) string {
	if len(key) > 16 {
		return key[:16] + "…"
	}
	return key
}
