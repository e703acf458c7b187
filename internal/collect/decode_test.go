package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeRejects(t *testing.T) {
	deep := func(n int) string { // an event whose field nests n more containers
		return `{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	batchOf := func(n int) string {
		return `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"a":1},`, n), ",") + `]}`
	}
	tests := []struct {
		name   string
		body   string
		lim    Limits
		detail string // substring of Detail
		offset int64  // -1: not checked
	}{
		{"empty", "", Limits{}, "empty", 0},
		{"whitespace only", " \r\n\t", Limits{}, "empty", 0},
		{"invalid utf-8 in string", "{\"a\":\"x\xff\"}", Limits{}, "UTF-8", 7},
		{"overlong utf-8", "{\"a\":\"\xc0\xaf\"}", Limits{}, "UTF-8", 6},
		{"utf-16 surrogate encoded in utf-8", "{\"a\":\"\xed\xa0\x80\"}", Limits{}, "UTF-8", 6},
		{"byte order mark", "\ufeff{}", Limits{}, "must be a JSON object", 0},

		{"top-level array", `[{"a":1}]`, Limits{}, "must be a JSON object", 0},
		{"top-level string", `"x"`, Limits{}, "must be a JSON object", 0},
		{"top-level null", ` null`, Limits{}, "must be a JSON object", 1},
		{"top-level number", `1`, Limits{}, "must be a JSON object", 0},

		{"trailing comma in object", `{"a":1,}`, Limits{}, "invalid character '}', expected a string object key", 7},
		{"trailing comma in array", `{"a":[1,]}`, Limits{}, "expected a value", 8},
		{"missing colon", `{"a" 1}`, Limits{}, "expected ':'", 5},
		{"missing comma", `{"a":1 "b":2}`, Limits{}, "expected ',' or '}'", 7},
		{"single quotes", `{'a':1}`, Limits{}, "invalid character", 1},
		{"unquoted key", `{a:1}`, Limits{}, "string object key", 1},
		{"truncated object", `{"a":1`, Limits{}, "unexpected end of input", 6},
		{"truncated value", `{"a":`, Limits{}, "unexpected end of input", 5},
		{"unterminated string", `{"a":"xyz`, Limits{}, "unterminated string", 5},
		{"unterminated escape", `{"a":"x\`, Limits{}, "unterminated string", 5},
		{"bad literal", `{"a":tru}`, Limits{}, "expected true", 5},
		{"capital literal", `{"a":True}`, Limits{}, "invalid character 'T'", 5},
		{"NaN literal", `{"a":NaN}`, Limits{}, "invalid character 'N'", 5},
		{"Infinity literal", `{"a":Infinity}`, Limits{}, "invalid character 'I'", 5},
		{"negative Infinity", `{"a":-Infinity}`, Limits{}, "a digit", 6},
		{"leading zero", `{"a":01}`, Limits{}, "expected ','", 6},
		{"plus sign", `{"a":+1}`, Limits{}, "invalid character '+'", 5},
		{"bare minus", `{"a":-}`, Limits{}, "a digit", 6},
		{"leading dot", `{"a":.5}`, Limits{}, "invalid character '.'", 5},
		{"trailing dot", `{"a":1.}`, Limits{}, "after the decimal point", 7},
		{"empty exponent", `{"a":1e}`, Limits{}, "in exponent", 7},
		{"hex number", `{"a":0x10}`, Limits{}, "invalid character 'x'", 6},
		{"raw control character", "{\"a\":\"x\x01\"}", Limits{}, "control character", 7},
		{"raw newline in string", "{\"a\":\"x\ny\"}", Limits{}, "control character", 7},
		{"bad escape", `{"a":"\q"}`, Limits{}, "invalid escape", 6},
		{"short unicode escape", `{"a":"\u12"}`, Limits{}, `invalid \u escape`, 6},
		{"non-hex unicode escape", `{"a":"\u12g4"}`, Limits{}, `invalid \u escape`, 6},
		{"lone high surrogate", `{"a":"\ud800"}`, Limits{}, "unpaired", 6},
		{"lone low surrogate", `{"a":"\udc00"}`, Limits{}, "unpaired", 6},
		{"high surrogate then letter", `{"a":"\ud800\u0041"}`, Limits{}, "unpaired", 6},
		{"NUL escape", `{"a":"x\u0000"}`, Limits{}, "NUL", 7},
		{"NUL escape in key", `{"\u0000":1}`, Limits{}, "NUL", 2},
		{"comment", `{"a":1 /* hi */}`, Limits{}, "invalid character '/'", 7},

		{"trailing garbage", `{"a":1} x`, Limits{}, "trailing data", 8},
		{"two objects", `{}{}`, Limits{}, "trailing data", 2},
		{"trailing bracket", `{"a":1}]`, Limits{}, "trailing data", 7},
		{"trailing NUL", "{}\x00", Limits{}, "trailing data", 2},

		{"duplicate key", `{"a":1,"a":2}`, Limits{}, `duplicate key "a"`, 7},
		{"duplicate key via escape", `{"a":1,"\u0061":2}`, Limits{}, `duplicate key "a"`, 7},
		{"duplicate nested key", `{"a":{"b":1,"b":1}}`, Limits{}, `duplicate key "b"`, 12},
		{"duplicate key in array item", `{"a":[{"b":1},{"c":1,"c":2}]}`, Limits{}, `duplicate key "c"`, 21},
		{"duplicate key in batch event", `{"events":[{"x":1,"x":2}]}`, Limits{}, `duplicate key "x"`, 18},
		{"duplicate events key", `{"events":[{}],"events":[{}]}`, Limits{}, `duplicate key "events"`, 15},
		{"duplicate event_id", `{"event_id":"123e4567-e89b-12d3-a456-426614174000","event_id":"123e4567-e89b-12d3-a456-426614174000"}`, Limits{}, "duplicate key", 51},
		{"long duplicate key is shortened", `{"` + strings.Repeat("k", 1000) + `":1,"` + strings.Repeat("k", 1000) + `":1}`, Limits{}, `duplicate key "` + strings.Repeat("k", 64) + `"…`, 1006},

		{"too deep", deep(16), Limits{}, "deeper than 16", -1},
		{"too deep with custom limit", deep(3), Limits{MaxDepth: 3}, "deeper than 3", 7},
		{"too deep objects", `{"a":{"b":{"c":{}}}}`, Limits{MaxDepth: 3}, "deeper than 3", 15},
		{"too deep in batch", `{"events":[` + deep(16) + `]}`, Limits{}, "deeper than 16", -1},
		{"very deep does not overflow", `{"a":` + strings.Repeat("[", 1_000_000), Limits{}, "deeper than 16", 20},

		{"empty batch", `{"events":[]}`, Limits{}, "batch is empty", 10},
		{"empty batch with space", `{"events":[ ]}`, Limits{}, "batch is empty", 10},
		{"batch too big", batchOf(101), Limits{}, "more than 100 events", -1},
		{"batch too big custom", batchOf(3), Limits{MaxBatch: 2}, "more than 2 events", 27},
		{"batch item not object", `{"events":[{},1]}`, Limits{}, "events[1] must be a JSON object", 14},
		{"batch item array", `{"events":[[]]}`, Limits{}, "events[0] must be a JSON object", 11},
		{"batch item garbage", `{"events":[x]}`, Limits{}, "expected an event object", 11},
		{"batch trailing comma", `{"events":[{},]}`, Limits{}, "expected an event object", 14},
		{"batch with key after", `{"events":[{}],"x":1}`, Limits{}, "no other top-level key", 15},
		{"batch with key before", `{"x":1,"events":[{}]}`, Limits{}, "no other top-level key", 7},
		{"batch with event_id beside it", `{"event_id":"123e4567-e89b-12d3-a456-426614174000","events":[{}]}`, Limits{}, "no other top-level key", 51},

		{"event_id number", `{"event_id":123}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id null", `{"event_id":null}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id not uuid", `{"event_id":"abc"}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id without hyphens", `{"event_id":"123e4567e89b12d3a456426614174000"}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id with braces", `{"event_id":"{123e4567-e89b-12d3-a456-426614174000}"}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id urn", `{"event_id":"urn:uuid:123e4567-e89b-12d3-a456-426614174000"}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id non-hex", `{"event_id":"123e4567-e89b-12d3-a456-42661417400g"}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id misplaced hyphen", `{"event_id":"123e456-7e89b-12d3-a456-426614174000"}`, Limits{}, "event_id must be a UUID", 12},
		{"event_id bad in batch", `{"events":[{"event_id":"123e4567-e89b-12d3-a456-426614174000"},{"a":1, "event_id":"x"}]}`, Limits{}, "events[1]: event_id must be a UUID", 82},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := Decode([]byte(tc.body), tc.lim)
			if err == nil {
				t.Fatalf("Decode accepted %q: %v", trunc(tc.body), evs)
			}
			de, ok := errors.AsType[*DecodeError](err)
			if !ok {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if !strings.Contains(de.Detail, tc.detail) {
				t.Errorf("Detail = %q, want it to contain %q", de.Detail, tc.detail)
			}
			if tc.offset >= 0 && de.Offset != tc.offset {
				t.Errorf("Offset = %d, want %d (%s)", de.Offset, tc.offset, de.Detail)
			}
			if de.Offset < 0 || de.Offset > int64(len(tc.body)) {
				t.Errorf("Offset %d outside the body (len %d)", de.Offset, len(tc.body))
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("at byte %d", de.Offset)) {
				t.Errorf("Error() = %q lacks the offset", err.Error())
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func TestDecodeAccepts(t *testing.T) {
	deep := func(n int) string {
		return `{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	batchOf := func(n int) string {
		return `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"a":1},`, n), ",") + `]}`
	}
	const id = "123e4567-e89b-12d3-a456-426614174000"
	tests := []struct {
		name string
		body string
		lim  Limits
		want []RawEvent // nil: only the count is checked
		n    int
	}{
		{"empty object", `{}`, Limits{}, []RawEvent{{Fields: map[string]any{}}}, 1},
		{"surrounding whitespace", " \n\t{ }\r\n ", Limits{}, []RawEvent{{Fields: map[string]any{}}}, 1},
		{"all value kinds", `{"s":"x","t":true,"f":false,"n":null,"i":-0,"x":1.5e-3,"a":[1,"a",[]],"o":{"k":{}}}`, Limits{},
			[]RawEvent{{Fields: map[string]any{
				"s": "x", "t": true, "f": false, "n": nil, "i": json.Number("-0"), "x": json.Number("1.5e-3"),
				"a": []any{json.Number("1"), "a", []any{}}, "o": map[string]any{"k": map[string]any{}},
			}}}, 1},
		{"escapes", `{"e":"\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00<"}`, Limits{},
			[]RawEvent{{Fields: map[string]any{"e": "\"\\/\b\f\n\r\té€😀<"}}}, 1},
		{"raw unicode", `{"ключ":"значение 😀"}`, Limits{}, []RawEvent{{Fields: map[string]any{"ключ": "значение 😀"}}}, 1},
		{"big number kept as literal", `{"n":1e400}`, Limits{}, []RawEvent{{Fields: map[string]any{"n": json.Number("1e400")}}}, 1},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":1}}`, Limits{}, nil, 1},
		{"uppercase event_id lowercased and removed", `{"event_id":"123E4567-E89B-12D3-A456-426614174000","a":1}`, Limits{},
			[]RawEvent{{ID: id, Fields: map[string]any{"a": json.Number("1")}}}, 1},
		{"events not an array is a field", `{"events":"x","b":1}`, Limits{},
			[]RawEvent{{Fields: map[string]any{"events": "x", "b": json.Number("1")}}}, 1},
		{"events object is a field", `{"events":{}}`, Limits{},
			[]RawEvent{{Fields: map[string]any{"events": map[string]any{}}}}, 1},
		{"batch", `{"events":[{"event_id":"` + id + `","a":1},{"b":"x"}]}`, Limits{},
			[]RawEvent{{ID: id, Fields: map[string]any{"a": json.Number("1")}}, {Fields: map[string]any{"b": "x"}}}, 2},
		{"batch with an empty event", `{ "events" : [ { } ] }`, Limits{}, []RawEvent{{Fields: map[string]any{}}}, 1},
		{"batch of 100", batchOf(100), Limits{}, nil, 100},
		{"batch at custom limit", batchOf(2), Limits{MaxBatch: 2}, nil, 2},
		{"depth 16", deep(15), Limits{}, nil, 1},
		{"depth 16 in batch", `{"events":[` + deep(15) + `]}`, Limits{}, nil, 1},
		{"depth 3 custom", `{"a":{"b":[]}}`, Limits{MaxDepth: 3}, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := Decode([]byte(tc.body), tc.lim)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(evs) != tc.n {
				t.Fatalf("got %d events, want %d", len(evs), tc.n)
			}
			if tc.want != nil && !reflect.DeepEqual(evs, tc.want) {
				t.Errorf("got  %#v\nwant %#v", evs, tc.want)
			}
			// Whatever Decode accepts, encoding/json agrees with.
			if !json.Valid([]byte(tc.body)) {
				t.Errorf("encoding/json thinks the body is invalid")
			}
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	_, err := Decode([]byte(`{"a":1} x`), Limits{})
	if got, want := err.Error(), "trailing data after the JSON value (at byte 8)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// A hostile key is never echoed whole.
	key := strings.Repeat("é", 100)
	_, err = Decode([]byte(`{"`+key+`":1,"`+key+`":1}`), Limits{})
	if len(err.Error()) > 200 {
		t.Errorf("error echoes too much: %d bytes", len(err.Error()))
	}
}

func TestDecodeLimitsDefaults(t *testing.T) {
	got := Limits{}.withDefaults()
	if got.MaxBatch != 100 || got.MaxDepth != 16 {
		t.Errorf("defaults = %+v", got)
	}
	got = Limits{MaxBatch: 5, MaxDepth: -1}.withDefaults()
	if got.MaxBatch != 5 || got.MaxDepth != 16 {
		t.Errorf("withDefaults = %+v", got)
	}
}
