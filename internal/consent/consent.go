// Package consent decides whether a person has said "do not collect":
// steward's opt-out cookie, Do Not Track and Global Privacy Control. It also
// serves the opt-out endpoints that set, clear and report the cookie.
package consent

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/steward-privacy/steward/internal/csrf"
	"github.com/steward-privacy/steward/internal/problem"
)

// CookieName is steward's opt-out cookie.
const CookieName = "steward_optout"

// NotStoredHeader tells a client that a 2xx answer stored nothing because of
// the person's choice, so it must not retry.
const NotStoredHeader = "Steward-Not-Stored"

// Reasons a request is not stored.
const (
	OptOut = "opt-out"
	DNT    = "dnt"
	GPC    = "gpc"
)

// signals are the ways a person says "do not collect", in the order
// Refusal checks them. Collection and the public notice (which lists what
// is honoured, and serves /.well-known/gpc.json only when GPC is) both read
// this one table, so the notice cannot promise a signal collection ignores.
var signals = []struct {
	reason  string
	refuses func(*http.Request) bool
}{
	{OptOut, func(r *http.Request) bool {
		c, err := r.Cookie(CookieName)
		return err == nil && c.Value == "1"
	}},
	{GPC, func(r *http.Request) bool { return r.Header.Get("Sec-GPC") == "1" }},
	{DNT, func(r *http.Request) bool { return r.Header.Get("DNT") == "1" }},
}

// Refusal returns why the request must not be stored, or "".
func Refusal(r *http.Request) string {
	for _, s := range signals {
		if s.refuses(r) {
			return s.reason
		}
	}
	return ""
}

// Honoured lists the signals collection honours (OptOut, GPC, DNT), in
// the order it checks them.
func Honoured() []string {
	out := make([]string, len(signals))
	for i, s := range signals {
		out[i] = s.reason
	}
	return out
}

// Honours reports whether collection honours the signal reason.
func Honours(reason string) bool {
	for _, s := range signals {
		if s.reason == reason {
			return true
		}
	}
	return false
}

// Handler serves /v1/opt-out.
type Handler struct {
	CSRF   *csrf.Guard
	Secure bool
}

type status struct {
	OptedOut             bool `json:"opted_out"`
	DoNotTrack           bool `json:"do_not_track"`
	GlobalPrivacyControl bool `json:"global_privacy_control"`
}

// ServeHTTP: POST opts out (no token needed: opting out can only reduce
// collection), DELETE opts back in (needs the CSRF token, so another site
// cannot silently re-enable collection), GET reports.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := status{
		DoNotTrack:           r.Header.Get("DNT") == "1",
		GlobalPrivacyControl: r.Header.Get("Sec-GPC") == "1",
	}
	c, err := r.Cookie(CookieName)
	st.OptedOut = err == nil && c.Value == "1"
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		http.SetCookie(w, h.cookie("1", 2*365*24*time.Hour))
		st.OptedOut = true
	case http.MethodDelete:
		if !h.CSRF.CheckHeader(r) {
			problem.New(w, http.StatusForbidden, "csrf", "opting back in needs the token from GET /v1/csrf in the X-CSRF-Token header")
			return
		}
		http.SetCookie(w, h.cookie("", -time.Second))
		st.OptedOut = false
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		problem.New(w, http.StatusMethodNotAllowed, "method", "use GET, POST or DELETE")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(st)
}

func (h Handler) cookie(v string, age time.Duration) *http.Cookie {
	c := &http.Cookie{Name: CookieName, Value: v, Path: "/", HttpOnly: true,
		Secure: h.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(age.Seconds())}
	if age < 0 {
		c.MaxAge = -1
	}
	return c
}
