package minimise

import (
	"fmt"
	"net/netip"
	"testing"
)

func BenchmarkCoarseCached(b *testing.B) {
	p := testUA()
	agents := []string{uaFirefox, uaChrome, uaSafariIOS, uaAndroid, uaEdge}
	for _, a := range agents {
		p.Coarse(a)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			p.Coarse(agents[i%len(agents)])
			i++
		}
	})
}

func BenchmarkCoarseUncached(b *testing.B) {
	p, err := newUAParser(0)
	if err != nil {
		b.Fatal(err)
	}
	// Distinct agents, so the library's own (size 1) cache misses too.
	agents := make([]string, 1024)
	for i := range agents {
		agents[i] = fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", i, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Coarse(agents[i%len(agents)])
		i++
	}
}

func BenchmarkHash(b *testing.B) {
	k := mustKeyer(b, seqKey(32))
	b.ReportAllocs()
	for b.Loop() {
		k.Hash("subject", "3f1c2a9e-6b1d-4c2e-9a7f-0d5e8b7c6a21")
	}
}

func BenchmarkTruncateIP(b *testing.B) {
	v4 := netip.MustParseAddr("192.168.37.201")
	v6 := netip.MustParseAddr("2001:db8:abcd:1234:5678:9abc:def0:1234")
	b.ReportAllocs()
	for b.Loop() {
		TruncateIP(v4, 24, 48)
		TruncateIP(v6, 24, 48)
	}
}

func BenchmarkSample(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Sample("interaction_data\x00client-1234567890", 0.25)
	}
}
