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
	"github.com/steward-privacy/steward/internal/store"
	"slices"
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
	var b bytes.Buffer
	b.Grow(256 + 72*len(e.SubjectKeys))
	b.WriteString(hashVersion)
	b.WriteByte(0)
	var n [8]byte
	put64 := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		b.Write(n[:])
	}
	putStr := func(s string) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s)))
		b.Write(n[:4])
		b.WriteString(s)
	}
	put64(e.Seq)
	put64(e.At.UnixMicro())
	for _, s := range []string{e.Actor, e.AuthMethod, e.CredentialID, e.Role, e.Purpose,
		e.Dataset, e.Query, e.ClientNet, e.Decision, e.Reason} {
		putStr(s)
	}
	put64(e.Records)
	put64(e.Subjects)
	binary.BigEndian.PutUint32(n[:4], uint32(len(e.SubjectKeys)))
	b.Write(n[:4])
	for _, k := range e.SubjectKeys {
		putStr(k)
	}
	b.Write(e.PrevHash)
	sum := sha256.Sum256(b.Bytes())
	return sum[:]
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
