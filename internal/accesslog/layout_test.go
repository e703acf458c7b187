package accesslog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"
)

// The hash layout is a promise to anyone who re-verifies an exported log:
// these vectors were computed before any optimisation and must never change.
func TestHashLayoutIsStable(t *testing.T) {
	e := &Entry{Seq: 42, At: time.UnixMicro(1_800_000_000_123_456), Actor: "dashboard", AuthMethod: "token",
		CredentialID: "tok_1", Role: "analyst", Purpose: "product_improvement", Dataset: "interaction_data",
		Query: "from=2026-11-01&subject=é", Records: 7, Subjects: 2, SubjectKeys: []string{"aa", "bb"},
		ClientNet: "192.0.2.0", Decision: Allowed, PrevHash: make([]byte, 32)}
	e.PrevHash[0] = 1
	for _, c := range []struct {
		e    *Entry
		want string
	}{
		{e, "f18b47734a1d116458b18f02bb0eb49029a98b45c36c29043af1ec09c85509d9"},
		{&Entry{}, "1efff824c53f0efc8725dcb1640885d524b3caa153b3f52e7bdb2250f8709598"},
	} {
		if got := hex.EncodeToString(ComputeHash(c.e)); got != c.want {
			t.Errorf("hash %s, want %s", got, c.want)
		}
	}
	// The layout exactly as docs/access-log.md spells it out.
	var m []byte
	str := func(s string) { m = binary.BigEndian.AppendUint32(m, uint32(len(s))); m = append(m, s...) }
	m = append(m, "steward.accesslog.v1\x00"...)
	m = binary.BigEndian.AppendUint64(m, 42)
	m = binary.BigEndian.AppendUint64(m, 1_800_000_000_123_456)
	for _, s := range []string{"dashboard", "token", "tok_1", "analyst", "product_improvement", "interaction_data",
		"from=2026-11-01&subject=é", "192.0.2.0", "allowed", ""} {
		str(s)
	}
	m = binary.BigEndian.AppendUint64(m, 7)
	m = binary.BigEndian.AppendUint64(m, 2)
	m = binary.BigEndian.AppendUint32(m, 2)
	str("aa")
	str("bb")
	m = append(m, e.PrevHash...)
	if sum := sha256.Sum256(m); hex.EncodeToString(sum[:]) != hex.EncodeToString(ComputeHash(e)) {
		t.Error("ComputeHash differs from the documented layout")
	}
}
