// Package csrf implements the double-submit token of the collection
// endpoints the browser SDK (sdk/js/steward.js) calls: GET /v1/csrf hands
// out a token in the response body and in a cookie, and a write to
// /v1/collect or /v1/opt-out must echo the cookie's token in the
// X-CSRF-Token header. Tokens carry a MAC under the server key, so a cookie
// planted by a sibling subdomain is not enough to forge one.
//
// It serves collection only. steward's pages are guarded by
// http.CrossOriginProtection instead (internal/web/ui.Protect), with the
// session's own token on signed-in forms; see docs/web.md.
package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// CookieName is the cookie that holds the token.
const CookieName = "steward_csrf"

// HeaderName is the request header that must repeat it.
const HeaderName = "X-CSRF-Token"

// Guard issues and checks tokens.
type Guard struct {
	key []byte
	// Secure marks the cookie Secure (set when steward is served over TLS).
	Secure bool
	// MaxAge of the cookie.
	MaxAge time.Duration
}

// New returns a Guard whose MACs use a key derived from secret.
func New(secret []byte) *Guard {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("steward csrf v1"))
	return &Guard{key: m.Sum(nil), MaxAge: 24 * time.Hour}
}

// Issue returns the token already in the request's cookie if it is valid,
// or mints a new one and sets the cookie.
func (g *Guard) Issue(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil && g.valid(c.Value) {
		return c.Value
	}
	var nonce [18]byte
	_, _ = rand.Read(nonce[:])
	n := base64.RawURLEncoding.EncodeToString(nonce[:])
	tok := n + "." + g.mac(n)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: tok, Path: "/",
		MaxAge: int(g.MaxAge.Seconds()), HttpOnly: true, Secure: g.Secure,
		SameSite: http.SameSiteLaxMode,
	})
	return tok
}

// Check reports whether the request's cookie holds a valid token and the
// submitted value (header or form field, read by the caller) equals it.
func (g *Guard) Check(r *http.Request, submitted string) bool {
	c, err := r.Cookie(CookieName)
	if err != nil || submitted == "" {
		return false
	}
	return hmac.Equal([]byte(c.Value), []byte(submitted)) && g.valid(c.Value)
}

// CheckHeader is Check with the token taken from the X-CSRF-Token header.
func (g *Guard) CheckHeader(r *http.Request) bool {
	return g.Check(r, r.Header.Get(HeaderName))
}

func (g *Guard) valid(tok string) bool {
	n, mac, ok := strings.Cut(tok, ".")
	return ok && len(n) == 24 && hmac.Equal([]byte(mac), []byte(g.mac(n)))
}

func (g *Guard) mac(nonce string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
