package minimise

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strings"
	"sync"
)

// MinKeyLen is the shortest hashing key accepted, in bytes.
const MinKeyLen = 32

// fingerprintLabel is what Fingerprint MACs. It has no NUL byte, so it can
// never equal a Hash input (domain + "\x00" + value).
const fingerprintLabel = "steward/minimise/key-fingerprint/v1"

// Keyer computes keyed hashes (HMAC-SHA256) of identifiers, so they can be
// matched (for erasure, joins, counting distinct subjects) without being
// stored. Without the key the hashes can't be reversed by trying likely
// values. It is safe for concurrent use.
//
// Keyer never prints its key: fmt and slog show only the fingerprint.
type Keyer struct {
	pool sync.Pool // *keyerState
	fp   string
}

type keyerState struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
	hex [2 * sha256.Size]byte
}

// NewKeyer returns a Keyer for key, which must be at least MinKeyLen bytes
// (use LoadOrCreateKey or KeyFromString to get one). key is copied.
func NewKeyer(key []byte) (*Keyer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("minimise: hashing key is %d bytes; it must be at least %d", len(key), MinKeyLen)
	}
	key = append([]byte(nil), key...)
	k := &Keyer{}
	k.pool.New = func() any {
		return &keyerState{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)}
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintLabel))
	k.fp = hex.EncodeToString(m.Sum(nil))[:16]
	return k, nil
}

// SigningKey derives an Ed25519 key from the hashing key under label, so
// every node sharing the key signs alike and there is no second secret to
// keep. Each kind of signed document has its own label: a signature made
// for one can never stand for another.
func (k *Keyer) SigningKey(label string) ed25519.PrivateKey {
	seed, _ := hex.DecodeString(k.Hash(label, "v1"))
	return ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize])
}

// Hash returns hex(HMAC-SHA256(key, domain + "\x00" + value)): 64 lower-case
// hex characters. The domain separates uses — "subject", a dataset name —
// so equal values hashed for different purposes don't match. A domain must
// not contain a NUL byte (otherwise two different domain/value pairs could
// give the same input).
func (k *Keyer) Hash(domain, value string) string {
	st := k.pool.Get().(*keyerState)
	st.mac.Reset()
	b := append(st.buf[:0], domain...)
	b = append(b, 0)
	b = append(b, value...)
	st.mac.Write(b)
	st.mac.Sum(st.sum[:0])
	hex.Encode(st.hex[:], st.sum[:])
	out := string(st.hex[:])
	if cap(b) <= 4096 { // don't let one huge value pin a big buffer
		st.buf = b[:0]
	}
	k.pool.Put(st)
	return out
}

// Fingerprint identifies the key without revealing it: the first 16 hex
// characters of HMAC(key, a fixed label). Nodes sharing a database compare
// fingerprints to detect that they were given different keys.
func (k *Keyer) Fingerprint() string { return k.fp }

// String shows the fingerprint only.
func (k *Keyer) String() string { return "minimise.Keyer(" + k.fp + ")" }

// GoString shows the fingerprint only, so %#v cannot print the key.
func (k *Keyer) GoString() string { return k.String() }

// LogValue shows the fingerprint only.
func (k *Keyer) LogValue() slog.Value { return slog.StringValue(k.String()) }

// KeyFromString decodes a key given in configuration or the environment: at
// least 2*MinKeyLen hex characters, surrounding white space ignored. Errors
// never quote the value.
func KeyFromString(s string) ([]byte, error) {
	return decodeHexKey(strings.TrimSpace(s))
}

var errNotHex = errors.New("minimise: hashing key must be hex-encoded")

func decodeHexKey(s string) ([]byte, error) {
	if !isHex(s) {
		return nil, errNotHex
	}
	if len(s) < 2*MinKeyLen {
		return nil, fmt.Errorf("minimise: hashing key has %d hex characters; it needs at least %d (%d random bytes, e.g. openssl rand -hex %d)", len(s), 2*MinKeyLen, MinKeyLen, MinKeyLen)
	}
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("minimise: hashing key has an odd number (%d) of hex characters", len(s))
	}
	key := make([]byte, len(s)/2)
	if _, err := hex.Decode(key, []byte(s)); err != nil {
		return nil, errNotHex // hex's error quotes the offending character
	}
	return key, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
