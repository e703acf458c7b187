package collect

import (
	"net/netip"
	"sync"

	"golang.org/x/time/rate"
)

// limiter rate-limits per client network (/24 for IPv4, /48 for IPv6), so
// one host cannot dodge it by rotating addresses within its allocation.
type limiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	clients map[netip.Prefix]*rate.Limiter
}

// maxClients bounds the map; when it is full it is reset, which at worst
// grants a fresh burst to everyone rather than growing without limit.
const maxClients = 100_000

func newLimiter(perSec float64, burst int) *limiter {
	if burst < 1 {
		burst = max(1, int(perSec))
	}
	return &limiter{perSec: rate.Limit(perSec), burst: burst, clients: map[netip.Prefix]*rate.Limiter{}}
}

func (l *limiter) allow(a netip.Addr) bool {
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
