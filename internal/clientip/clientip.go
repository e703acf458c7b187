// Package clientip finds the address a request came from, trusting
// X-Forwarded-For only from configured proxies. The address it returns is
// raw: callers minimise it before it is written or logged anywhere.
package clientip

import (
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses.
type Resolver struct {
	// Trusted proxies whose X-Forwarded-For is believed.
	Trusted []netip.Prefix
}

// Addr returns the client's address, or the zero Addr when it cannot be told.
func (r Resolver) Addr(req *http.Request) netip.Addr {
	peer := parse(req.RemoteAddr)
	if !peer.IsValid() || !r.trusted(peer) {
		return peer
	}
	// Walk X-Forwarded-For right to left, skipping our own proxies: the first
	// untrusted hop is the client as far as we can know.
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a := parse(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			return peer
		}
		if !r.trusted(a) {
			return a
		}
		peer = a
	}
	return peer
}

func (r Resolver) trusted(a netip.Addr) bool {
	for _, p := range r.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func parse(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
