// Package accesslog keeps the trace every read of personal data leaves: an
// append-only log whose entries are hash-chained, so editing, deleting or
// reordering any entry breaks the chain at that entry and `steward log
// verify` names it.
package accesslog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/steward-privacy/steward/internal/store"
)

// Decisions.
const (
	Allowed = "allowed"
	Denied  = "denied"
)

// Entry is one access to personal data (or one refused attempt).
type Entry = store.AccessEntry

// hashVersion starts every hashed message, so a future layout cannot be
// confused with this one.
const hashVersion = "steward.accesslog.v1"

// GenesisHash is the PrevHash of the first entry.
var GenesisHash = make([]byte, sha256.Size)

// ComputeHash returns the entry's hash over the layout documented in
// docs/access-log.md: version, seq, time, every field length-prefixed in a
// fixed order, the sorted subject keys, and the previous entry's hash.
func ComputeHash(e *Entry) []byte {
	sum := hashOf(e)
	return sum[:]
}

// hashOf builds the message in a stack buffer: verifying a large log hashes
// every entry, and a heap buffer per entry was most of the cost.
func hashOf(e *Entry) [sha256.Size]byte {
	var stack [512]byte
	return sha256.Sum256(appendMessage(stack[:0], e))
}

func appendMessage(b []byte, e *Entry) []byte {
	b = append(b, hashVersion...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	for _, s := range [...]string{e.Actor, e.AuthMethod, e.CredentialID, e.Role, e.Purpose,
		e.Dataset, e.Query, e.ClientNet, e.Decision, e.Reason} {
		b = appendString(b, s)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(e.Records))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Subjects))
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.SubjectKeys)))
	for _, k := range e.SubjectKeys {
		b = appendString(b, k)
	}
	return append(b, e.PrevHash...)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Seal fills in PrevHash and Hash for an entry appended after prev (nil for
// the first entry). Subject keys are sorted first: order must not matter.
func Seal(e *Entry, prev []byte) {
	if prev == nil {
		prev = GenesisHash
	}
	slices.Sort(e.SubjectKeys)
	e.PrevHash = prev
	e.Hash = ComputeHash(e)
}

// Break describes the first entry where the chain does not hold.
type Break struct {
	Seq    int64
	Reason string
	// Forged: a checkpoint does not verify under this server's key; Seq
	// is the entry it names (zero when not even that can be read).
	Forged bool
}

func (b *Break) Error() string { return fmt.Sprintf("entry %d: %s", b.Seq, b.Reason) }

// Verifier checks entries one by one in Seq order.
type Verifier struct {
	prev    []byte
	nextSeq int64
	Checked int64
}

// NewVerifier expects the chain to start at seq 1 from the genesis hash.
func NewVerifier() *Verifier { return &Verifier{prev: GenesisHash, nextSeq: 1} }

// Check verifies the next entry; the first failure is returned as *Break.
func (v *Verifier) Check(e *Entry) error { return v.checkHashed(e, ComputeHash(e)) }

// checkHashed is Check with the entry's hash already computed.
func (v *Verifier) checkHashed(e *Entry, sum []byte) error {
	switch {
	case e.Seq != v.nextSeq:
		return &Break{Seq: v.nextSeq, Reason: fmt.Sprintf("missing: the next entry present is %d (deleted or reordered)", e.Seq)}
	case !bytes.Equal(e.PrevHash, v.prev):
		return &Break{Seq: e.Seq, Reason: "does not link to the entry before it (reordered or replaced)"}
	case !bytes.Equal(sum, e.Hash):
		return &Break{Seq: e.Seq, Reason: "content does not match its hash (edited)"}
	}
	v.prev = e.Hash
	v.nextSeq++
	v.Checked++
	return nil
}
