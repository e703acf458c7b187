// Package ratelimit limits requests per client network (/24 for IPv4, /48
// for IPv6), so one host cannot dodge a limit by rotating addresses within
// its allocation.
package ratelimit

import (
	"net/netip"
	"sync"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per client network. It is safe for
// concurrent use.
type Limiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	clients map[netip.Prefix]*rate.Limiter
}

// maxClients bounds the map; when it is full it is reset, which at worst
// grants a fresh burst to everyone rather than growing without limit.
const maxClients = 100_000

// New allows perSec requests per second per network, with bursts of burst.
func New(perSec float64, burst int) *Limiter {
	if burst < 1 {
		burst = max(1, int(perSec))
	}
	return &Limiter{perSec: rate.Limit(perSec), burst: burst, clients: map[netip.Prefix]*rate.Limiter{}}
}

// Allow reports whether a request from a may go ahead now, and counts it.
func (l *Limiter) Allow(a netip.Addr) bool {
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	l.mu.Lock()
	lim, ok := l.clients[p]
	if !ok {
		if len(l.clients) >= maxClients {
			clear(l.clients)
		}
		lim = rate.NewLimiter(l.perSec, l.burst)
		l.clients[p] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}
