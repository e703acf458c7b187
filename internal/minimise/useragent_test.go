package minimise

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

const (
	uaFirefox   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
	uaChrome    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaSafariIOS = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
	uaAndroid   = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
	uaEdge      = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
)

// One parser for the package's tests: compiling the definitions is slow.
var testUA = sync.OnceValue(func() *UAParser {
	p, err := NewUAParser()
	if err != nil {
		panic(err)
	}
	return p
})

func TestCoarse(t *testing.T) {
	other := UserAgent{Browser: "Other", Version: "", OS: "Other"}
	tests := []struct {
		name string
		in   string
		want UserAgent
	}{
		{"firefox", uaFirefox, UserAgent{"Firefox", "121", "Windows"}},
		{"chrome", uaChrome, UserAgent{"Chrome", "120", "Mac OS X"}},
		{"safari ios", uaSafariIOS, UserAgent{"Mobile Safari", "17", "iOS"}},
		{"chrome android", uaAndroid, UserAgent{"Chrome Mobile", "120", "Android"}},
		{"edge", uaEdge, UserAgent{"Edge", "120", "Windows"}},
		{"curl", "curl/8.5.0", UserAgent{"curl", "8", "Other"}},
		{"white space around", "  " + uaFirefox + "\t", UserAgent{"Firefox", "121", "Windows"}},
		{"empty", "", other},
		{"blank", " \t ", other},
		{"garbage", "xq7!!@@##", other},
		{"very long garbage", strings.Repeat("zq", 100_000), other},
		{"invalid utf-8", "\xff\xfe\xfd", other},
		// Only the first MaxUserAgentLen bytes count: a real agent followed
		// by junk still parses...
		{"long tail ignored", uaFirefox + strings.Repeat(" junk", 10_000), UserAgent{"Firefox", "121", "Windows"}},
		// ...and one pushed past the limit is not seen at all.
		{"past the cap", strings.Repeat("z", MaxUserAgentLen) + uaFirefox, other},
	}
	p := testUA()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the second answer comes from the cache.
			for i := range 2 {
				if got := p.Coarse(tt.in); got != tt.want {
					t.Fatalf("Coarse (call %d) = %#v, want %#v", i+1, got, tt.want)
				}
			}
		})
	}
}

func TestCoarseJSON(t *testing.T) {
	b, err := json.Marshal(testUA().Coarse(uaFirefox))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"browser":"Firefox","version":"121","os":"Windows"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

func TestCoarseCachedMatchesUncached(t *testing.T) {
	un, err := newUAParser(0)
	if err != nil {
		t.Fatal(err)
	}
	if un.cache != nil {
		t.Fatal("cache size 0 should disable the cache")
	}
	p := testUA()
	for _, s := range []string{uaFirefox, uaChrome, uaSafariIOS, uaAndroid, uaEdge, "curl/8.5.0", "", "nonsense"} {
		for range 2 {
			if a, b := p.Coarse(s), un.Coarse(s); a != b {
				t.Errorf("%q: cached %#v, uncached %#v", s, a, b)
			}
		}
	}
}

func TestCoarseConcurrent(t *testing.T) {
	p, err := newUAParser(32) // small, so goroutines evict each other
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]UserAgent{}
	var agents []string
	for i := range 40 {
		s := fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", 60+i, 60+i)
		agents = append(agents, s)
		want[s] = UserAgent{"Firefox", fmt.Sprint(60 + i), "Linux"}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 60 {
				s := agents[(i*7+g*13)%len(agents)]
				if got := p.Coarse(s); got != want[s] {
					select {
					case errs <- fmt.Sprintf("%q: got %#v, want %#v", s, got, want[s]):
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := p.cache.len(); n > 32 {
		t.Errorf("cache holds %d entries, bound is 32", n)
	}
}

func TestUACacheBoundAndEviction(t *testing.T) {
	c := newUACache(64) // 16 shards × 4
	for i := range 10_000 {
		c.put(fmt.Sprint("ua-", i), UserAgent{Browser: fmt.Sprint(i)})
	}
	if n := c.len(); n != 64 {
		t.Errorf("after 10000 inserts the cache holds %d entries, want exactly 64", n)
	}
	// Every entry still indexed maps to its own slot and value.
	for i := range c.shards {
		s := &c.shards[i]
		for k, slot := range s.index {
			if s.slots[slot].key != k || "ua-"+s.slots[slot].val.Browser != k {
				t.Fatalf("index %q → slot %d holding %q/%q", k, slot, s.slots[slot].key, s.slots[slot].val.Browser)
			}
		}
	}
	// The most recent insert is present; the first is long gone.
	if v, ok := c.get("ua-9999"); !ok || v.Browser != "9999" {
		t.Errorf("latest entry: got %#v, %v", v, ok)
	}
	if _, ok := c.get("ua-0"); ok {
		t.Error("oldest entry survived 10000 inserts into 64 slots")
	}
}

func TestUACacheKeepsReferenced(t *testing.T) {
	c := newUACache(16 * 4)
	hot := "hot agent"
	c.put(hot, UserAgent{Browser: "Hot"})
	for i := range 1000 {
		if _, ok := c.get(hot); !ok {
			t.Fatalf("hot entry evicted after %d cold inserts", i)
		}
		c.put(fmt.Sprint("cold-", i), UserAgent{})
	}
}

func TestUACacheDisabled(t *testing.T) {
	if c := newUACache(0); c != nil {
		t.Error("newUACache(0) should be nil (no cache)")
	}
}

func TestCapUTF8(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},                  // é is 2 bytes
		{"a€b", 3, "a"},                 // € is 3 bytes
		{"a😀", 4, "a"},                  // 😀 is 4 bytes
		{"a😀", 5, "a😀"},                 //
		{"ab\xff\xfe", 4, "ab\xff\xfe"}, // not cut: left alone
	}
	for _, tt := range tests {
		got := capUTF8(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("capUTF8(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if len(got) > tt.n {
			t.Errorf("capUTF8(%q, %d) is %d bytes", tt.in, tt.n, len(got))
		}
	}
}

func TestFamilyAndMajor(t *testing.T) {
	long := strings.Repeat("é", 100)
	for _, tt := range []struct{ in, want string }{
		{"Firefox", "Firefox"},
		{"", "Other"},
		{" \x00\x07 ", "Other"},
		{"Evil\nBot\x1b[31m", "EvilBot[31m"},
		{"Bad\xffUTF", "BadUTF"},
	} {
		if got := family(tt.in); got != tt.want {
			t.Errorf("family(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := family(long); len(got) > maxFamilyLen || !utf8.ValidString(got) {
		t.Errorf("family(long) = %q (%d bytes)", got, len(got))
	}
	for _, tt := range []struct{ in, want string }{
		{"121", "121"}, {"4b", "4"}, {"beta", ""}, {"", ""}, {"123456789012", "12345678"},
	} {
		if got := major(tt.in); got != tt.want {
			t.Errorf("major(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
