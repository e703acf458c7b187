package signin

import "testing"

// TestSafeNext: the return address after sign-in must stay on this site.
// Browsers drop TAB, LF and CR from a URL and read a backslash as a
// slash, so "/\t/evil.test" and "/\evil.test" reach another host; every
// control character and backslash is refused, raw or percent-encoded.
func TestSafeNext(t *testing.T) {
	const fallback = "/account"
	refused := []string{
		"", "account", "evil.test", "?next=x",
		// control characters, raw and percent-encoded
		"/\t/evil.test", "/%09/evil.test", "/\t\\evil.test", "/%09%5Cevil.test",
		"/\n/evil.test", "/%0a/evil.test", "/%0A/evil.test",
		"/\r/evil.test", "/%0d/evil.test", "/%0D/evil.test",
		"/\v/evil.test", "/%0b/evil.test",
		"/\f/evil.test", "/%0c/evil.test",
		"/\x00/evil.test", "/%00/evil.test",
		"/\x7f/evil.test", "/%7F/evil.test",
		"/\u0085/evil.test", "/%C2%85/evil.test", // NEL, a C1 control
		"\t//evil.test", "/account?x=%0a", "/account#%09",
		// backslashes and slashes that make an authority
		"/\\evil.test", "\\/evil.test", "\\\\evil.test", "/%5Cevil.test", "/%5cevil.test",
		"//evil.test", "///evil.test", "////evil.test", "/%2F/evil.test", "/%2fevil.test", "/%2F%2Fevil.test",
		// absolute URLs and other schemes
		"https://evil.test", "HTTPS:evil.test", "https:/evil.test", "javascript:alert(1)", "JavaScript:alert(document.domain)",
		"data:text/html,<script>alert(1)</script>", "//user@evil.test",
		// not a URL at all
		"/%", "/%zz", "/a%2", "/%FF", "/\xff",
		"/" + string(make([]byte, 600)),
	}
	for _, next := range refused {
		if got := safeNext(next); got != fallback {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, fallback)
		}
	}
	kept := []string{
		"/account",
		"/admin/requests?status=received",
		"/admin/requests/r-abc123?tab=history#answer",
		"/admin/requests?q=a%20b&status=received",
		"/privacy/requests/new",
		"/@evil.test:x//", // a path on this site, however it looks
		"/",
	}
	for _, next := range kept {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q, want it kept", next, got)
		}
	}
}
