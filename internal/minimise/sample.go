package minimise

import (
	"crypto/sha256"
	"encoding/binary"
)

// Sample decides deterministically whether the item identified by key is
// kept at the given rate: the first 8 bytes of SHA-256(key), as a big-endian
// uint64 divided by 2^64, compared with rate. The same key and rate always
// give the same answer, keys are kept uniformly, and raising the rate never
// drops a key that a lower rate kept. A rate of 1 or more keeps everything;
// 0, less, or NaN keeps nothing.
//
// Prefix the key with what is being sampled (e.g. the dataset name and a
// NUL) so different samples are independent.
func Sample(key string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	if !(rate > 0) { // also catches NaN
		return false
	}
	sum := sha256.Sum256([]byte(key))
	// u/2^64 < rate, compared in integers: converting u to float64 would
	// round it, while rate*2^64 is exact (a power-of-two scaling) and below
	// 2^64 since rate < 1.
	return binary.BigEndian.Uint64(sum[:8]) < uint64(rate*(1<<64))
}
