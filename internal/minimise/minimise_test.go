package minimise

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRoundTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	kolkata := time.FixedZone("IST", 5*3600+30*60) // a half-hour offset
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		name string
		in   time.Time
		d    time.Duration
		want time.Time
	}{
		{"exact multiple", utc("2024-03-01T10:20:00Z"), 10 * time.Minute, utc("2024-03-01T10:20:00Z")},
		{"just before", utc("2024-03-01T10:19:59.999999999Z"), 10 * time.Minute, utc("2024-03-01T10:10:00Z")},
		{"just after", utc("2024-03-01T10:20:00.000000001Z"), 10 * time.Minute, utc("2024-03-01T10:20:00Z")},
		{"before midnight", utc("2023-12-31T23:59:59Z"), 10 * time.Minute, utc("2023-12-31T23:50:00Z")},
		{"paris zone", time.Date(2024, 7, 1, 12, 34, 56, 0, paris), 10 * time.Minute, utc("2024-07-01T10:30:00Z")},
		{"half-hour zone, hour", time.Date(2024, 1, 1, 0, 45, 0, 0, kolkata), time.Hour, utc("2023-12-31T19:00:00Z")},
		{"day is a UTC day", time.Date(2024, 1, 1, 3, 0, 0, 0, kolkata), 24 * time.Hour, utc("2023-12-31T00:00:00Z")},
		{"zero duration", time.Date(2024, 7, 1, 12, 34, 56, 789, paris), 0, utc("2024-07-01T10:34:56.000000789Z")},
		{"negative duration", utc("2024-07-01T10:34:56Z"), -time.Minute, utc("2024-07-01T10:34:56Z")},
		{"before 1970", utc("1969-12-31T23:59:59Z"), 10 * time.Minute, utc("1969-12-31T23:50:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RoundTime(tt.in, tt.d)
			if !got.Equal(tt.want) {
				t.Errorf("RoundTime(%v, %v) = %v, want %v", tt.in, tt.d, got, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("location = %v, want UTC", got.Location())
			}
		})
	}
}

func TestRoundTimeDropsMonotonic(t *testing.T) {
	now := time.Now()
	got := RoundTime(now, time.Minute)
	if s := got.String(); strings.Contains(s, "m=") {
		t.Errorf("monotonic reading kept: %s", s)
	}
}

func TestTruncateIP(t *testing.T) {
	tests := []struct {
		in     string
		v4, v6 int
		want   string
	}{
		{"192.168.37.201", 24, 48, "192.168.37.0"},
		{"192.168.37.201", 16, 48, "192.168.0.0"},
		{"192.168.37.201", 0, 48, "0.0.0.0"},
		{"192.168.37.201", 32, 48, "192.168.37.201"},
		{"192.168.37.201", 20, 48, "192.168.32.0"},
		{"192.168.37.201", 99, 48, "192.168.37.201"}, // clamped
		{"192.168.37.201", -1, 48, "0.0.0.0"},        // clamped
		{"2001:db8:abcd:1234:5678:9abc:def0:1234", 24, 48, "2001:db8:abcd::"},
		{"2001:db8:abcd:1234:5678:9abc:def0:1234", 24, 64, "2001:db8:abcd:1234::"},
		{"2001:db8:abcd:1234:5678:9abc:def0:1234", 24, 0, "::"},
		{"2001:db8:abcd:1234:5678:9abc:def0:1234", 24, 128, "2001:db8:abcd:1234:5678:9abc:def0:1234"},
		{"2001:db8:abcd:1234:5678:9abc:def0:1234", 24, 500, "2001:db8:abcd:1234:5678:9abc:def0:1234"},
		{"fe80::1234:5678%eth0", 24, 64, "fe80::"}, // zone dropped
		{"fe80::1234:5678%eth0", 24, 128, "fe80::1234:5678"},
		// v4-mapped is IPv4: v4Bits apply and the result is plain IPv4.
		{"::ffff:192.168.37.201", 24, 48, "192.168.37.0"},
		{"::ffff:192.168.37.201", 24, 128, "192.168.37.0"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d/%d", tt.in, tt.v4, tt.v6)
		t.Run(name, func(t *testing.T) {
			got := TruncateIP(netip.MustParseAddr(tt.in), tt.v4, tt.v6)
			if got.String() != tt.want {
				t.Errorf("TruncateIP = %s, want %s", got, tt.want)
			}
		})
	}
	if got := TruncateIP(netip.Addr{}, 24, 48); got.IsValid() {
		t.Errorf("TruncateIP(zero) = %v, want zero Addr", got)
	}
}

func TestParseClientIP(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means an error
	}{
		{"1.2.3.4", "1.2.3.4"},
		{"1.2.3.4:5678", "1.2.3.4"},
		{"::1", "::1"},
		{"[::1]:80", "::1"},
		{"[::1]", "::1"},
		{"  10.0.0.1  ", "10.0.0.1"},
		{"2001:db8::1", "2001:db8::1"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"[::ffff:1.2.3.4]:80", "1.2.3.4"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80::1%eth0]:80", "fe80::1"},
		{"", ""},
		{"   ", ""},
		{"localhost", ""},
		{"example.org:80", ""},
		{"1.2.3", ""},
		{"1.2.3.256", ""},
		{"1.2.3.4:", ""},
		{"1.2.3.4:99999", ""},
		{"1.2.3.4:http", ""},
		{"[1.2.3.4]", ""},
		{"[::1", ""},
		{"::1]:80", ""},
		{"1.2.3.4, 5.6.7.8", ""},
		{strings.Repeat("1", 200), ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClientIP(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseClientIP(%q) = %v, want error", tt.in, got)
				}
				if !errors.Is(err, ErrInvalidIP) {
					t.Errorf("error %v is not ErrInvalidIP", err)
				}
				if in := strings.TrimSpace(tt.in); in != "" && strings.Contains(err.Error(), in) {
					t.Errorf("error %q repeats the input", err)
				}
				if got.IsValid() {
					t.Errorf("got %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClientIP(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("ParseClientIP(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestSample(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want bool
	}{{1, true}, {1.5, true}, {0, false}, {-0.5, false}} {
		for i := range 1000 {
			if got := Sample(fmt.Sprint("k", i), tt.rate); got != tt.want {
				t.Fatalf("Sample(k%d, %v) = %v, want %v", i, tt.rate, got, tt.want)
			}
		}
	}
	nan := 0.0
	nan /= nan
	if Sample("k", nan) {
		t.Error("Sample with NaN rate kept a key")
	}
}

func TestSampleDeterministic(t *testing.T) {
	for i := range 1000 {
		k := fmt.Sprint("interaction_data\x00client-", i)
		first := Sample(k, 0.3)
		for range 3 {
			if Sample(k, 0.3) != first {
				t.Fatalf("Sample(%q) changed its answer", k)
			}
		}
	}
}

// A known answer, so the definition (first 8 bytes of SHA-256, big-endian)
// can't drift: SHA-256("abc") starts ba7816bf8f01cfea, i.e. 0.72839491…
func TestSampleKnownAnswer(t *testing.T) {
	if !Sample("abc", 0.72840) {
		t.Error(`Sample("abc", 0.72840) = false, want true`)
	}
	if Sample("abc", 0.72839) {
		t.Error(`Sample("abc", 0.72839) = true, want false`)
	}
}

func TestSampleFraction(t *testing.T) {
	const n = 100_000
	for _, rate := range []float64{0.01, 0.1, 0.25, 0.5, 0.9, 0.99} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			kept := 0
			for i := range n {
				if Sample(fmt.Sprintf("dataset\x00subject-%d", i), rate) {
					kept++
				}
			}
			got := float64(kept) / n
			if got < rate-0.01 || got > rate+0.01 {
				t.Errorf("kept %.4f of %d keys at rate %v; want within ±0.01", got, n, rate)
			}
		})
	}
}

// Raising the rate only adds keys: a subject sampled in stays in.
func TestSampleMonotonic(t *testing.T) {
	rates := []float64{0.05, 0.2, 0.5, 0.8}
	for i := range 20_000 {
		k := fmt.Sprint("s", i)
		in := false
		for _, r := range rates {
			got := Sample(k, r)
			if in && !got {
				t.Fatalf("key %q kept at a lower rate but dropped at %v", k, r)
			}
			in = got
		}
	}
}
