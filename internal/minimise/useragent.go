package minimise

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ua-parser/uap-go/uaparser"
)

// UserAgent is the coarse form of a User-Agent header: browser family, its
// major version and the operating system family. Nothing finer (minor
// versions, device model, build strings) survives.
type UserAgent struct {
	Browser string `json:"browser"`
	Version string `json:"version"` // major version only, digits, or ""
	OS      string `json:"os"`
}

// Other is the family reported for an empty or unrecognised agent.
const Other = "Other"

const (
	// MaxUserAgentLen is how much of a User-Agent header is looked at; the
	// rest is ignored. It bounds the work regular expressions can be made
	// to do and the memory the cache holds. Real agents are far shorter.
	MaxUserAgentLen = 512
	// DefaultUACacheSize is the number of distinct agents NewUAParser
	// remembers. A few thousand cover nearly all traffic.
	DefaultUACacheSize = 4096

	maxFamilyLen  = 64
	maxVersionLen = 8
)

// UAParser coarsens user agents with the ua-parser regular expressions
// (compiled in, from uap-core) and remembers recent answers. It is safe for
// concurrent use.
type UAParser struct {
	p     *uaparser.Parser
	cache *uaCache // nil: no caching
}

// NewUAParser compiles the embedded definitions (this takes a moment; do it
// once at start-up) and returns a parser with a cache of
// DefaultUACacheSize entries.
func NewUAParser() (*UAParser, error) {
	return newUAParser(DefaultUACacheSize)
}

func newUAParser(cacheSize int) (p *UAParser, err error) {
	// uaparser.New panics, not errors, on bad definitions; the embedded
	// ones are fixed at build time, but don't take the server down for it.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("minimise: loading user agent definitions: %v", r)
		}
	}()
	// The library keeps its own ARC caches, keyed by the raw agent and
	// holding pointers to its results. Ours sits in front and stores the
	// small coarse value, so theirs is set to the smallest it allows (0
	// would panic) rather than doubling memory. Device lookups are skipped:
	// we keep no device information.
	up, err := uaparser.New(
		uaparser.WithCacheSize(1),
		uaparser.WithMode(uaparser.EUserAgentLookUpMode|uaparser.EOsLookUpMode),
	)
	if err != nil {
		return nil, fmt.Errorf("minimise: loading user agent definitions: %w", err)
	}
	return &UAParser{p: up, cache: newUACache(cacheSize)}, nil
}

// Coarse returns the coarse form of a raw User-Agent header. Only the first
// MaxUserAgentLen bytes are considered. An empty or unrecognised agent gives
// {"Other", "", "Other"}.
func (p *UAParser) Coarse(raw string) UserAgent {
	raw = capUTF8(strings.TrimSpace(raw), MaxUserAgentLen)
	if raw == "" {
		return UserAgent{Browser: Other, OS: Other}
	}
	if p.cache != nil {
		if v, ok := p.cache.get(raw); ok {
			return v
		}
	}
	v := p.parse(raw)
	if p.cache != nil {
		p.cache.put(raw, v)
	}
	return v
}

func (p *UAParser) parse(raw string) UserAgent {
	// ParseUserAgent and ParseOs rather than Parse: Parse starts three
	// goroutines per call and also runs the device expressions.
	ua := p.p.ParseUserAgent(raw)
	os := p.p.ParseOs(raw)
	v := UserAgent{Browser: family(ua.Family), OS: family(os.Family)}
	if v.Browser != Other {
		v.Version = major(ua.Major)
	}
	return v
}

// CoarseParts is the coarse form of a user agent a client reports itself
// as its parts (seed 001's {os, browser, version}): the families bounded
// as parsed ones are, the version cut to its major number ("5" of "5.1").
// Neither family may be empty.
func CoarseParts(browser, version, os string) (UserAgent, bool) {
	v := UserAgent{Browser: family(browser), Version: major(strings.TrimSpace(version)), OS: family(os)}
	if strings.TrimSpace(browser) == "" || strings.TrimSpace(os) == "" {
		return UserAgent{}, false
	}
	if v.Browser == Other {
		v.Version = ""
	}
	return v, true
}

// family bounds a family name. Some expressions copy a token from the agent
// itself into the family, so it is treated as untrusted text: valid UTF-8,
// no control characters, at most maxFamilyLen bytes.
func family(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(capUTF8(s, maxFamilyLen))
	if s == "" {
		return Other
	}
	return s
}

// major keeps the leading digits of a major version ("121" of "121", "4" of
// "4b"), or "" if it doesn't start with one.
func major(s string) string {
	n := 0
	for n < len(s) && n < maxVersionLen && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}

// capUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence.
func capUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	// Back off at most 3 bytes over an incomplete trailing sequence.
	for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
