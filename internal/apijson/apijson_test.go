package apijson

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeRefusesEachMistake(t *testing.T) {
	for _, c := range []struct {
		ct, body, typ string
		status        int
	}{
		{"text/plain", `{"a":1}`, "content-type", 415},
		{"application/json", `{"a":1,"b":2}`, "bad-json", 400},
		{"application/json", `{"a":1} {"a":2}`, "bad-json", 400},
		{"application/json", `{"a":"` + strings.Repeat("x", 100) + `"}`, "too-large", 413},
		{"application/json; charset=utf-8", `{"a":1}`, "", 200},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		r.Header.Set("Content-Type", c.ct)
		w := httptest.NewRecorder()
		var v struct{ A json.RawMessage }
		ok := Decode(w, r, &v, 64, "64 bytes")
		if c.status == 200 {
			if !ok || string(v.A) != "1" {
				t.Errorf("%s: refused a good body: %d %s", c.body, w.Code, w.Body)
			}
			continue
		}
		var p struct{ Type string }
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if ok || w.Code != c.status || p.Type != "urn:steward:problem:"+c.typ {
			t.Errorf("%s: %v %d %s, want %d %s", c.body, ok, w.Code, w.Body, c.status, c.typ)
		}
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, http.StatusCreated, map[string]int{"n": 1})
	if w.Code != 201 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" || strings.TrimSpace(w.Body.String()) != "{\n  \"n\": 1\n}" {
		t.Fatalf("%d %v %q", w.Code, w.Header(), w.Body)
	}
}
