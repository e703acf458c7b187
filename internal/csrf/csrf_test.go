package csrf

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestIssueAndCheck(t *testing.T) {
	g := New([]byte("0123456789abcdef0123456789abcdef"))
	rec := httptest.NewRecorder()
	tok := g.Issue(rec, httptest.NewRequest("GET", "/v1/csrf", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Value != tok || !cookies[0].HttpOnly {
		t.Fatalf("cookie not set right: %+v", cookies)
	}
	req := func(cookie, header string) *http.Request {
		r := httptest.NewRequest("POST", "/", nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		}
		if header != "" {
			r.Header.Set(HeaderName, header)
		}
		return r
	}
	other := New([]byte("another key entirely, 32 bytes!!"))
	forged := other.Issue(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	cases := []struct {
		name           string
		cookie, header string
		want           bool
	}{
		{"match", tok, tok, true},
		{"no header", tok, "", false},
		{"no cookie", "", tok, false},
		{"mismatch", tok, tok[:len(tok)-1] + "x", false},
		{"forged under other key", forged, forged, false},
		{"garbage both", "abc", "abc", false},
	}
	for _, c := range cases {
		if got := g.CheckHeader(req(c.cookie, c.header)); got != c.want {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
	// A valid cookie is reused rather than rotated on every fetch.
	r := req(tok, "")
	rec2 := httptest.NewRecorder()
	if again := g.Issue(rec2, r); again != tok || len(rec2.Result().Cookies()) != 0 {
		t.Fatalf("valid token rotated")
	}
}
