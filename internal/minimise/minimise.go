// Package minimise holds the transforms applied to collected values before
// they are first written anywhere ("minimise at the edge"): rounding
// timestamps, truncating IP addresses, coarsening user agents, keyed
// hashing of identifiers and deterministic sampling.
//
// Every function here is pure and cheap enough to run on every collected
// event. None of them logs, and no error returned from this package
// contains the raw value it was given, so an error can be logged safely.
package minimise

import "time"

// RoundTime truncates t down to a multiple of d and returns it in UTC. The
// multiple is counted from the zero time, so the result does not depend on
// t's location: rounding to 24h gives midnight UTC. A d of zero or less
// returns t in UTC unchanged. The monotonic clock reading is dropped.
func RoundTime(t time.Time, d time.Duration) time.Time {
	t = t.UTC()
	if d <= 0 {
		return t
	}
	return t.Truncate(d)
}
