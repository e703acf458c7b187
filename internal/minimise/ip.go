package minimise

import (
	"errors"
	"net/netip"
	"strings"
)

// ErrInvalidIP is returned by ParseClientIP. It never carries the input.
var ErrInvalidIP = errors.New("minimise: not an IP address")

// maxIPInput bounds what ParseClientIP looks at: the longest legitimate
// form, "[v6%zone]:port", is well under it.
const maxIPInput = 128

// TruncateIP keeps the first v4Bits (IPv4) or v6Bits (IPv6) bits of ip and
// zeroes the rest. An IPv4-mapped IPv6 address is treated, and returned, as
// IPv4. Bit counts are clamped to the address size (negative means 0). Any
// IPv6 zone is dropped. The zero Addr is returned unchanged.
func TruncateIP(ip netip.Addr, v4Bits, v6Bits int) netip.Addr {
	if !ip.IsValid() {
		return netip.Addr{}
	}
	ip = ip.Unmap()
	bits := v6Bits
	if ip.Is4() {
		bits = min(v4Bits, 32)
	} else {
		bits = min(bits, 128)
	}
	// Prefix only fails for negative or oversized bit counts, ruled out here.
	p, _ := ip.Prefix(max(bits, 0))
	return p.Addr()
}

// ParseClientIP parses an address as found in http.Request.RemoteAddr or in
// a collected payload: "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]" or
// "[::1]:80". Surrounding white space is ignored, a zone is dropped and an
// IPv4-mapped IPv6 address is returned as IPv4. The error is always
// ErrInvalidIP, which does not repeat the input.
func ParseClientIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxIPInput {
		return netip.Addr{}, ErrInvalidIP
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if ap, perr := netip.ParseAddrPort(s); perr == nil {
			a, err = ap.Addr(), nil
		} else if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			a, err = netip.ParseAddr(s[1 : len(s)-1])
			if err == nil && !a.Is6() {
				err = ErrInvalidIP // "[1.2.3.4]" is not a form anyone sends
			}
		}
	}
	if err != nil {
		return netip.Addr{}, ErrInvalidIP
	}
	return a.WithZone("").Unmap(), nil
}
