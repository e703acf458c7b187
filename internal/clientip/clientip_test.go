package clientip

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestAddr(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"plain", "192.0.2.7:5555", "", nil, "192.0.2.7"},
		{"xff ignored from untrusted peer", "192.0.2.7:5555", "198.51.100.1", nil, "192.0.2.7"},
		{"xff from trusted proxy", "10.1.2.3:80", "198.51.100.1", proxy, "198.51.100.1"},
		{"chain of proxies", "10.1.2.3:80", "198.51.100.1, 10.9.9.9", proxy, "198.51.100.1"},
		{"spoofed left part ignored", "10.1.2.3:80", "6.6.6.6, 198.51.100.1", proxy, "198.51.100.1"},
		{"garbage xff", "10.1.2.3:80", "nonsense", proxy, "10.1.2.3"},
		{"ipv6", "[2001:db8::1]:443", "", nil, "2001:db8::1"},
		{"v4-mapped", "[::ffff:192.0.2.1]:1", "", nil, "192.0.2.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			got := Resolver{Trusted: c.trusted}.Addr(r)
			if got.String() != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}
