package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
)

func fptr(f float64) *float64 { return &f }

// testDataset builds a dataset by hand, independent of the YAML loader.
func testDataset(name string, fields ...*registry.Field) *registry.Dataset {
	for _, f := range fields {
		if f.Source == "" {
			f.Source = registry.SourcePayload
		}
	}
	return &registry.Dataset{Name: name, Fields: fields}
}

// seedDataset declares the KPI event of seed 001 (interaction_data).
func seedDataset() *registry.Dataset {
	return testDataset("interaction_data",
		&registry.Field{Name: "timestamp", Type: registry.TypeTimestamp, Category: 1, Minimise: registry.Minimise{Round: 10 * time.Minute}},
		&registry.Field{Name: "event_stream", Type: registry.TypeArray, Category: 2, MaxItems: 200,
			Items: &registry.Field{Type: registry.TypeArray, MaxItems: 2}},
		&registry.Field{Name: "email_type", Type: registry.TypeEnum, Category: 2, Values: []string{"primary", "secondary"}},
		&registry.Field{Name: "number_emails", Type: registry.TypeInteger, Category: 2, Min: fptr(0), Max: fptr(1000)},
		&registry.Field{Name: "new_account", Type: registry.TypeBoolean, Category: 2},
		&registry.Field{Name: "language", Type: registry.TypeString, Category: 1, MaxLength: 16},
		&registry.Field{Name: "number_sites_logged_in", Type: registry.TypeInteger, Category: 2, Min: fptr(0), Max: fptr(10000)},
		&registry.Field{Name: "screen_size", Type: registry.TypeObject, Category: 1, Fields: []*registry.Field{
			{Name: "width", Type: registry.TypeInteger, Required: true, Min: fptr(0), Max: fptr(100000)},
			{Name: "height", Type: registry.TypeInteger, Required: true, Min: fptr(0), Max: fptr(100000)},
		}},
		&registry.Field{Name: "sample_rate", Type: registry.TypeNumber, Category: 1, Min: fptr(0), Max: fptr(1)},
		// The seed's client sends an already coarse user agent object.
		&registry.Field{Name: "user_agent", Type: registry.TypeObject, Category: 1, MaxKeys: 3},
		&registry.Field{Name: "client_ip", Type: registry.TypeIP, Category: 1, Source: registry.SourceRequest,
			Minimise: registry.Minimise{TruncateV4: 24, TruncateV6: 48}},
		&registry.Field{Name: "received", Type: registry.TypeTimestamp, Category: 1, Source: registry.SourceServer},
	)
}

// seedEvent is the sample of seed 001's "Communication with Server
// Component" table, as JSON.
const seedEvent = `{
  "timestamp": 13330461000000,
  "event_stream": [["picker", 732], ["picker::change", 1700], ["picker::signin", 2300]],
  "email_type": "secondary",
  "number_emails": 3,
  "new_account": false,
  "language": "en_US",
  "number_sites_logged_in": 1,
  "screen_size": {"width": 640, "height": 480},
  "sample_rate": 1.0,
  "user_agent": {"os": "iOS", "browser": "Safari", "version": "5.1"}
}`

// typesDataset has one optional field of every type.
func typesDataset() *registry.Dataset {
	return testDataset("types",
		&registry.Field{Name: "s", Type: registry.TypeString, MaxLength: 16},
		&registry.Field{Name: "i", Type: registry.TypeInteger, Min: fptr(0), Max: fptr(1000)},
		&registry.Field{Name: "big", Type: registry.TypeInteger},
		&registry.Field{Name: "frac", Type: registry.TypeInteger, Min: fptr(-2.5), Max: fptr(2.5)},
		&registry.Field{Name: "n", Type: registry.TypeNumber, Min: fptr(-1), Max: fptr(1)},
		&registry.Field{Name: "anyn", Type: registry.TypeNumber},
		&registry.Field{Name: "b", Type: registry.TypeBoolean},
		&registry.Field{Name: "e", Type: registry.TypeEnum, Values: []string{"primary", "secondary"}},
		&registry.Field{Name: "ts", Type: registry.TypeTimestamp},
		&registry.Field{Name: "u", Type: registry.TypeUUID},
		&registry.Field{Name: "ip", Type: registry.TypeIP},
		&registry.Field{Name: "ua", Type: registry.TypeUserAgent},
		&registry.Field{Name: "arr", Type: registry.TypeArray, MaxItems: 3,
			Items: &registry.Field{Type: registry.TypeInteger, Max: fptr(10)}},
		&registry.Field{Name: "nested", Type: registry.TypeArray,
			Items: &registry.Field{Type: registry.TypeArray}},
		&registry.Field{Name: "objs", Type: registry.TypeArray,
			Items: &registry.Field{Type: registry.TypeObject, Fields: []*registry.Field{
				{Name: "k", Type: registry.TypeString, Required: true},
			}}},
		&registry.Field{Name: "obj", Type: registry.TypeObject, Fields: []*registry.Field{
			{Name: "w", Type: registry.TypeInteger, Required: true},
			{Name: "h", Type: registry.TypeInteger},
			{Name: "t", Type: registry.TypeTimestamp},
		}},
		&registry.Field{Name: "free", Type: registry.TypeObject, MaxKeys: 2},
		&registry.Field{Name: "client_ip", Type: registry.TypeIP, Source: registry.SourceRequest},
		&registry.Field{Name: "received", Type: registry.TypeTimestamp, Source: registry.SourceServer},
	)
}

func decodeOne(t testing.TB, body string) RawEvent {
	t.Helper()
	evs, err := Decode([]byte(body), Limits{})
	if err != nil {
		t.Fatalf("Decode(%s): %v", trunc(body), err)
	}
	if len(evs) != 1 {
		t.Fatalf("Decode: %d events", len(evs))
	}
	return evs[0]
}

func errStrings(errs []FieldError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Path + ": " + e.Problem
	}
	return out
}

func TestValidateSeedEvent(t *testing.T) {
	ev := decodeOne(t, seedEvent)
	vals, errs := Validate(seedDataset(), ev, 0)
	if len(errs) > 0 {
		t.Fatalf("seed 001 event rejected: %v", errs)
	}
	want := map[string]any{
		"timestamp": time.UnixMilli(13330461000000).UTC(),
		"event_stream": []any{
			[]any{"picker", json.Number("732")},
			[]any{"picker::change", json.Number("1700")},
			[]any{"picker::signin", json.Number("2300")},
		},
		"email_type":             "secondary",
		"number_emails":          int64(3),
		"new_account":            false,
		"language":               "en_US",
		"number_sites_logged_in": int64(1),
		"screen_size":            map[string]any{"width": int64(640), "height": int64(480)},
		"sample_rate":            1.0,
		"user_agent":             map[string]any{"os": "iOS", "browser": "Safari", "version": "5.1"},
	}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("values:\n got  %#v\n want %#v", vals, want)
	}
	// The normalised values encode (the handler marshals them).
	if _, err := json.Marshal(vals); err != nil {
		t.Errorf("normalised values do not encode: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ds := typesDataset()
	ts := time.Date(2012, 3, 29, 18, 35, 0, 0, time.UTC)
	tests := []struct {
		name string
		body string
		want map[string]any // values expected in the output (a subset)
		errs []string       // "path: problem", in order
	}{
		{"empty event", `{}`, map[string]any{}, nil},
		{"null is absent", `{"s":null,"i":null,"obj":null}`, map[string]any{}, nil},

		{"string", `{"s":"en_US"}`, map[string]any{"s": "en_US"}, nil},
		{"string at max length", `{"s":"0123456789abcdef"}`, map[string]any{"s": "0123456789abcdef"}, nil},
		{"string too long", `{"s":"0123456789abcdefg"}`, nil, []string{"s: longer than 16 bytes"}},
		{"string length is bytes", `{"s":"ééééééééé"}`, nil, []string{"s: longer than 16 bytes"}},
		{"string as number", `{"s":5}`, nil, []string{"s: must be a string"}},
		{"string as array", `{"s":["x"]}`, nil, []string{"s: must be a string"}},

		{"integer", `{"i":3}`, map[string]any{"i": int64(3)}, nil},
		{"integer bounds", `{"i":1000}`, map[string]any{"i": int64(1000)}, nil},
		{"integer minus zero", `{"i":-0}`, map[string]any{"i": int64(0)}, nil},
		{"integer as string", `{"i":"3"}`, nil, []string{"i: must be an integer"}},
		{"integer 1.0", `{"i":1.0}`, nil, []string{"i: must be an integer"}},
		{"integer exponent", `{"i":1e2}`, nil, []string{"i: must be an integer"}},
		{"integer fraction", `{"i":2.5}`, nil, []string{"i: must be an integer"}},
		{"integer 1e400", `{"i":1e400}`, nil, []string{"i: must be an integer"}},
		{"integer bool", `{"i":true}`, nil, []string{"i: must be an integer"}},
		{"integer over max", `{"i":1001}`, nil, []string{"i: must be at most 1000"}},
		{"integer under min", `{"i":-1}`, nil, []string{"i: must be at least 0"}},
		{"integer int64 max", `{"big":9223372036854775807}`, map[string]any{"big": int64(9223372036854775807)}, nil},
		{"integer int64 min", `{"big":-9223372036854775808}`, map[string]any{"big": int64(-9223372036854775808)}, nil},
		{"integer over int64", `{"big":9223372036854775808}`, nil, []string{"big: is out of range for a 64-bit integer"}},
		{"integer under int64", `{"big":-9223372036854775809}`, nil, []string{"big: is out of range for a 64-bit integer"}},
		{"integer huge literal", `{"big":` + strings.Repeat("9", 5000) + `}`, nil, []string{"big: is out of range for a 64-bit integer"}},
		{"integer fractional bounds ok", `{"frac":-2}`, map[string]any{"frac": int64(-2)}, nil},
		{"integer fractional max", `{"frac":3}`, nil, []string{"frac: must be at most 2.5"}},
		{"integer fractional min", `{"frac":-3}`, nil, []string{"frac: must be at least -2.5"}},

		{"number", `{"n":0.5}`, map[string]any{"n": 0.5}, nil},
		{"number integer literal", `{"n":1}`, map[string]any{"n": 1.0}, nil},
		{"number exponent", `{"n":-25e-2}`, map[string]any{"n": -0.25}, nil},
		{"number minus zero", `{"n":-0}`, map[string]any{"n": 0.0}, nil},
		{"number minus zero is positive", `{"anyn":-0.0}`, map[string]any{"anyn": 0.0}, nil},
		{"number underflow is zero", `{"n":1e-400}`, map[string]any{"n": 0.0}, nil},
		{"number 1e400", `{"anyn":1e400}`, nil, []string{"anyn: must be a finite number"}},
		{"number -1e400", `{"anyn":-1e400}`, nil, []string{"anyn: must be a finite number"}},
		{"number NaN string", `{"anyn":"NaN"}`, nil, []string{"anyn: must be a number"}},
		{"number Infinity string", `{"anyn":"Infinity"}`, nil, []string{"anyn: must be a number"}},
		{"number -Infinity string", `{"anyn":"-Infinity"}`, nil, []string{"anyn: must be a number"}},
		{"number numeric string", `{"anyn":"1.5"}`, nil, []string{"anyn: must be a number"}},
		{"number over max", `{"n":1.0000001}`, nil, []string{"n: must be at most 1"}},
		{"number under min", `{"n":-2}`, nil, []string{"n: must be at least -1"}},
		{"number null-ish", `{"anyn":false}`, nil, []string{"anyn: must be a number"}},

		{"boolean", `{"b":false}`, map[string]any{"b": false}, nil},
		{"boolean string", `{"b":"true"}`, nil, []string{"b: must be true or false"}},
		{"boolean number", `{"b":1}`, nil, []string{"b: must be true or false"}},

		{"enum", `{"e":"primary"}`, map[string]any{"e": "primary"}, nil},
		{"enum case", `{"e":"Primary"}`, nil, []string{"e: must be one of primary, secondary"}},
		{"enum number", `{"e":1}`, nil, []string{"e: must be one of primary, secondary"}},

		{"timestamp seconds", `{"ts":1333046100}`, map[string]any{"ts": ts}, nil},
		{"timestamp milliseconds", `{"ts":1333046100000}`, map[string]any{"ts": ts}, nil},
		{"timestamp ms precision", `{"ts":1333046100123}`, map[string]any{"ts": ts.Add(123 * time.Millisecond)}, nil},
		{"timestamp seconds at 1e11", `{"ts":100000000000}`, map[string]any{"ts": time.Unix(1e11, 0).UTC()}, nil},
		{"timestamp ms above 1e11", `{"ts":100000000001}`, map[string]any{"ts": time.UnixMilli(1e11 + 1).UTC()}, nil},
		{"timestamp zero", `{"ts":0}`, map[string]any{"ts": time.Unix(0, 0).UTC()}, nil},
		{"timestamp RFC 3339", `{"ts":"2012-03-29T18:35:00Z"}`, map[string]any{"ts": ts}, nil},
		{"timestamp RFC 3339 offset", `{"ts":"2012-03-29T20:35:00+02:00"}`, map[string]any{"ts": ts}, nil},
		{"timestamp RFC 3339 fraction", `{"ts":"2012-03-29T18:35:00.5Z"}`, map[string]any{"ts": ts.Add(500 * time.Millisecond)}, nil},
		{"timestamp fraction", `{"ts":1333046100.5}`, nil, []string{"ts: " + problemTimestamp}},
		{"timestamp exponent", `{"ts":1.3e9}`, nil, []string{"ts: " + problemTimestamp}},
		{"timestamp negative", `{"ts":-1}`, nil, []string{"ts: " + problemTimeRange}},
		{"timestamp after 9999", `{"ts":253402300800000}`, nil, []string{"ts: " + problemTimeRange}},
		{"timestamp over int64", `{"ts":99999999999999999999}`, nil, []string{"ts: " + problemTimeRange}},
		{"timestamp before 1970", `{"ts":"1969-12-31T23:59:59Z"}`, nil, []string{"ts: " + problemTimeRange}},
		{"timestamp past 9999 after UTC", `{"ts":"9999-12-31T23:00:00-05:00"}`, nil, []string{"ts: " + problemTimeRange}},
		{"timestamp date only", `{"ts":"2012-03-29"}`, nil, []string{"ts: " + problemTimestamp}},
		{"timestamp numeric string", `{"ts":"1333046100"}`, nil, []string{"ts: " + problemTimestamp}},
		{"timestamp bool", `{"ts":true}`, nil, []string{"ts: " + problemTimestamp}},

		{"uuid lowercased", `{"u":"123E4567-E89B-12D3-A456-426614174000"}`, map[string]any{"u": "123e4567-e89b-12d3-a456-426614174000"}, nil},
		{"uuid bad", `{"u":"123e4567"}`, nil, []string{"u: must be a UUID like 123e4567-e89b-12d3-a456-426614174000"}},
		{"uuid number", `{"u":1}`, nil, []string{"u: must be a UUID like 123e4567-e89b-12d3-a456-426614174000"}},

		{"ip v4", `{"ip":"192.0.2.1"}`, map[string]any{"ip": "192.0.2.1"}, nil},
		{"ip v6", `{"ip":"2001:db8::1"}`, map[string]any{"ip": "2001:db8::1"}, nil},
		{"ip zone", `{"ip":"fe80::1%eth0"}`, nil, []string{"ip: must be an IP address"}},
		{"ip bad", `{"ip":"999.1.1.1"}`, nil, []string{"ip: must be an IP address"}},
		{"ip with port", `{"ip":"192.0.2.1:80"}`, nil, []string{"ip: must be an IP address"}},
		{"ip number", `{"ip":3221225985}`, nil, []string{"ip: must be an IP address string"}},

		{"user agent", `{"ua":"Mozilla/5.0"}`, map[string]any{"ua": "Mozilla/5.0"}, nil},
		{"user agent 512", `{"ua":"` + strings.Repeat("a", 512) + `"}`, map[string]any{"ua": strings.Repeat("a", 512)}, nil},
		{"user agent 513", `{"ua":"` + strings.Repeat("a", 513) + `"}`, nil, []string{"ua: longer than 512 bytes"}},
		{"user agent object", `{"ua":{"os":"iOS"}}`, nil, []string{"ua: must be a user agent string"}},

		{"array", `{"arr":[1,2,3]}`, map[string]any{"arr": []any{int64(1), int64(2), int64(3)}}, nil},
		{"array empty", `{"arr":[]}`, map[string]any{"arr": []any{}}, nil},
		{"array too long", `{"arr":[1,2,3,4]}`, nil, []string{"arr: has more than 3 items"}},
		{"array huge", `{"arr":[` + strings.TrimSuffix(strings.Repeat("1,", 100000), ",") + `]}`, nil, []string{"arr: has more than 3 items"}},
		{"array bad items", `{"arr":[1,"x",11]}`, nil, []string{"arr[1]: must be an integer", "arr[2]: must be at most 10"}},
		{"array null item", `{"arr":[null]}`, nil, []string{"arr[0]: must be an integer"}},
		{"array not array", `{"arr":"1,2"}`, nil, []string{"arr: must be an array"}},
		{"nested arrays", `{"nested":[["picker",732],[null,true,1.5]]}`, map[string]any{"nested": []any{
			[]any{"picker", json.Number("732")}, []any{nil, true, json.Number("1.5")}}}, nil},
		{"nested array with container", `{"nested":[[1],["a",[1]],[{}]]}`, nil, []string{
			"nested[1][1]: must be a string, number, boolean or null", "nested[2][0]: must be a string, number, boolean or null"}},
		{"nested array item not array", `{"nested":[1]}`, nil, []string{"nested[0]: must be an array"}},
		{"array of objects", `{"objs":[{"k":"a"},{"k":1},{},{"k":"b","z":1}]}`, nil, []string{
			"objs[1].k: must be a string", "objs[2].k: is required", "objs[3].z: unknown field: not declared in the registry"}},

		{"object", `{"obj":{"w":1,"h":2,"t":0}}`, map[string]any{"obj": map[string]any{"w": int64(1), "h": int64(2), "t": time.Unix(0, 0).UTC()}}, nil},
		{"object optional absent", `{"obj":{"w":1}}`, map[string]any{"obj": map[string]any{"w": int64(1)}}, nil},
		{"object required missing", `{"obj":{"h":2}}`, nil, []string{"obj.w: is required"}},
		{"object required null", `{"obj":{"w":null}}`, nil, []string{"obj.w: is required"}},
		{"object unknown member", `{"obj":{"w":1,"x":1,"a b":2}}`, nil, []string{
			`obj["a b"]: unknown field: not declared in the registry`, "obj.x: unknown field: not declared in the registry"}},
		{"object bad member", `{"obj":{"w":"1","h":1.5}}`, nil, []string{"obj.w: must be an integer", "obj.h: must be an integer"}},
		{"object not object", `{"obj":[1]}`, nil, []string{"obj: must be an object"}},
		{"free object", `{"free":{"a":1,"b":"x"}}`, map[string]any{"free": map[string]any{"a": json.Number("1"), "b": "x"}}, nil},
		{"free object too many keys", `{"free":{"a":1,"b":2,"c":3}}`, nil, []string{"free: has more than 2 keys"}},
		{"free object nested", `{"free":{"a":{},"b":[]}}`, nil, []string{
			"free.a: must be a string, number, boolean or null", "free.b: must be a string, number, boolean or null"}},

		{"unknown field", `{"zzz":1}`, nil, []string{"zzz: unknown field: not declared in the registry"}},
		{"unknown null field", `{"zzz":null}`, nil, []string{"zzz: unknown field: not declared in the registry"}},
		{"unknown hostile key", `{"a.b[0]":1,"":2}`, nil, []string{
			`[""]: unknown field: not declared in the registry`, `["a.b[0]"]: unknown field: not declared in the registry`}},
		{"unknown long key shortened", `{"` + strings.Repeat("x", 100) + `":1}`, nil, []string{
			`["` + strings.Repeat("x", 64) + `"…]: unknown field: not declared in the registry`}},
		{"server field sent", `{"client_ip":"192.0.2.1"}`, nil, []string{"client_ip: set by the server; do not send"}},
		{"server field sent as null", `{"received":null}`, nil, []string{"received: set by the server; do not send"}},

		{"every problem reported in declaration order", `{"zz":1,"s":1,"i":-5,"e":"x","client_ip":"1.1.1.1","obj":{},"aa":2}`, nil, []string{
			"s: must be a string",
			"i: must be at least 0",
			"e: must be one of primary, secondary",
			"obj.w: is required",
			"client_ip: set by the server; do not send",
			"aa: unknown field: not declared in the registry",
			"zz: unknown field: not declared in the registry",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := decodeOne(t, tc.body)
			vals, errs := Validate(ds, ev, 0)
			if got := errStrings(errs); !reflect.DeepEqual(got, tc.errs) && (len(got) > 0 || len(tc.errs) > 0) {
				t.Errorf("problems:\n got  %q\n want %q", got, tc.errs)
			}
			for k, want := range tc.want {
				if got := vals[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if tc.want != nil && len(vals) != len(tc.want) {
				t.Errorf("values = %#v, want exactly %#v", vals, tc.want)
			}
			for _, e := range errs {
				top, _, _ := strings.Cut(strings.SplitN(e.Path, "[", 2)[0], ".")
				if _, ok := vals[top]; ok && top != "" {
					t.Errorf("%s is in the values despite %q", top, e)
				}
			}
		})
	}
}

func TestValidateRequired(t *testing.T) {
	ds := testDataset("req",
		&registry.Field{Name: "client_id", Type: registry.TypeUUID, Required: true},
		&registry.Field{Name: "lang", Type: registry.TypeString, Required: true},
		&registry.Field{Name: "opt", Type: registry.TypeString},
	)
	_, errs := Validate(ds, decodeOne(t, `{"lang":null,"opt":"x"}`), 4)
	want := []FieldError{
		{Event: 4, Path: "client_id", Problem: "is required"},
		{Event: 4, Path: "lang", Problem: "is required"},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("got %+v, want %+v", errs, want)
	}
	vals, errs := Validate(ds, decodeOne(t, `{"client_id":"123e4567-e89b-12d3-a456-426614174000","lang":"en"}`), 0)
	if len(errs) != 0 || len(vals) != 2 {
		t.Errorf("got %v, %v", vals, errs)
	}
}

func TestValidateBatchIndexes(t *testing.T) {
	evs, err := Decode([]byte(`{"events":[{"i":1},{"i":"x"},{"i":2000}]}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var all []FieldError
	for i, ev := range evs {
		_, errs := Validate(typesDataset(), ev, i)
		all = append(all, errs...)
	}
	want := []FieldError{
		{Event: 1, Path: "i", Problem: "must be an integer"},
		{Event: 2, Path: "i", Problem: "must be at most 1000"},
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("got %+v, want %+v", all, want)
	}
	if got := all[1].String(); got != "event 2: i: must be at most 1000" {
		t.Errorf("String() = %q", got)
	}
	if got := (FieldError{Path: "i", Problem: "is required"}).String(); got != "i: is required" {
		t.Errorf("String() = %q", got)
	}
	b, _ := json.Marshal(all[0])
	if string(b) != `{"event":1,"path":"i","problem":"must be an integer"}` {
		t.Errorf("JSON = %s", b)
	}
}

func TestValidateProblemsAreBounded(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"f%d":1`, i)
	}
	sb.WriteString("}")
	_, errs := Validate(typesDataset(), decodeOne(t, sb.String()), 0)
	if len(errs) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(errs), maxProblems+1)
	}
	if last := errs[len(errs)-1]; last.Problem != ProblemTooMany || last.Path != "" {
		t.Errorf("last problem = %+v", last)
	}
}

func TestValidateUnsupportedType(t *testing.T) {
	ds := testDataset("x", &registry.Field{Name: "a", Type: "blob"})
	_, errs := Validate(ds, decodeOne(t, `{"a":1}`), 0)
	if len(errs) != 1 || !strings.Contains(errs[0].Problem, "does not support") {
		t.Errorf("got %v", errs)
	}
}

// fuzzDataset declares every type, none required, so that mutated inputs
// often validate and the round trip gets exercised.
func fuzzDataset() *registry.Dataset {
	fields := slices.Concat(seedDataset().Fields, typesDataset().Fields)
	seen := map[string]bool{}
	var out []*registry.Field
	for _, f := range fields {
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	for _, f := range out {
		if f.Name == "screen_size" {
			f.Fields[0].Required, f.Fields[1].Required = false, false
		}
	}
	return testDataset("fuzz", out...)
}

func FuzzDecodeValidate(f *testing.F) {
	for _, s := range []string{
		seedEvent,
		`{"events":[` + seedEvent + `,{"event_id":"123E4567-E89B-12D3-A456-426614174000","number_emails":1001}]}`,
		`{}`,
		`{"event_id":"123e4567-e89b-12d3-a456-426614174000","s":"x\u00e9\ud83d\ude00","i":-0,"n":-1e-3,"b":true,"e":"primary"}`,
		`{"ts":"2012-03-29T20:35:00+02:00","u":"123E4567-E89B-12D3-A456-426614174000","ip":"2001:db8::1","ua":"Mozilla/5.0"}`,
		`{"ts":1333046100123,"arr":[1,2,3],"nested":[["a",1],[null,false]],"objs":[{"k":"v"}]}`,
		`{"obj":{"w":1,"h":2,"t":0},"free":{"a":1,"b":"<&>"},"anyn":1e308,"big":-9223372036854775808}`,
		`{"events":[{"s":"a\"b\\c\/\b\f\n\r\t"},{"u":"00000000-0000-0000-0000-000000000000","e":"secondary"},{"free":{"x":null,"y":false}}]}`,
		`{"screen_size":{"width":0},"obj":{"w":-1,"t":"9999-12-31T23:59:59.999999999Z"},"ts":253402300799999}`,
		`{"nested":[[],[1e-400,-0.0,"\u2028"]],"sample_rate":0,"number_emails":1000,"language":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}`,
		`{"a":1,"a":2}`,
		`{"a":{"b":[{"c":{"c":1,"c":2}}]}}`,
		`{"a":[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}`,
		`{"i":1.0,"n":1e400,"anyn":"NaN","ts":-1,"client_ip":"1.2.3.4"}`,
		`{"events":[]}`,
		`{"events":[{}],"x":1}`,
		`{"a":"\ud800"}`,
		"{\"a\":\"\xff\"}",
		`{"a":1} trailing`,
		`[1,2]`,
		``,
	} {
		f.Add([]byte(s))
	}
	ds := fuzzDataset()
	lim := Limits{MaxBatch: 8, MaxDepth: 6}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := Decode(body, lim)
		if err != nil {
			de, ok := errors.AsType[*DecodeError](err)
			if !ok {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			if de.Offset < 0 || de.Offset > int64(len(body)) || de.Detail == "" {
				t.Fatalf("bad error %+v for body of %d bytes", de, len(body))
			}
			if json.Valid(body) && isSyntaxDetail(de.Detail) {
				t.Fatalf("syntax error %q for JSON that encoding/json accepts: %q", de.Detail, body)
			}
			return
		}
		if len(evs) < 1 || len(evs) > lim.MaxBatch {
			t.Fatalf("%d events", len(evs))
		}
		compareWithStdlib(t, body, evs)
		for i, ev := range evs {
			vals, errs := Validate(ds, ev, i)
			for _, e := range errs {
				if e.Event != i || e.Problem == "" {
					t.Fatalf("bad FieldError %+v for event %d", e, i)
				}
			}
			if len(errs) > 0 {
				continue
			}
			// The accepted event, encoded again, decodes to the same event
			// and validates clean to the same values.
			raw := maps.Clone(ev.Fields)
			if ev.ID != "" {
				raw[EventIDKey] = ev.ID
			}
			ev2 := roundTrip(t, raw, lim)
			if !reflect.DeepEqual(ev2, ev) {
				t.Fatalf("round trip changed the event:\n %#v\n %#v", ev, ev2)
			}
			vals2, errs2 := Validate(ds, ev2, i)
			if len(errs2) > 0 || !reflect.DeepEqual(vals2, vals) {
				t.Fatalf("re-encoded event: %v\n %#v\n %#v", errs2, vals, vals2)
			}
			// The normalised values are themselves a valid event that
			// normalises to itself (this is what gets stored).
			ev3 := roundTrip(t, vals, lim)
			vals3, errs3 := Validate(ds, ev3, i)
			if len(errs3) > 0 || !reflect.DeepEqual(vals3, vals) {
				t.Fatalf("normalised values do not validate to themselves: %v\n %#v\n %#v", errs3, vals, vals3)
			}
		}
	})
}

func roundTrip(t *testing.T, m map[string]any, lim Limits) RawEvent {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("re-encode %#v: %v", m, err)
	}
	evs, err := Decode(b, lim)
	if err != nil || len(evs) != 1 {
		t.Fatalf("re-encoded %s does not decode: %v", b, err)
	}
	return evs[0]
}

func isSyntaxDetail(d string) bool {
	for _, s := range []string{"invalid character", "unexpected end", "unterminated", "invalid literal", "invalid escape", `invalid \u`, "control character"} {
		if strings.Contains(d, s) {
			return true
		}
	}
	return false
}

// compareWithStdlib checks that encoding/json decodes an accepted body to
// the same values.
func compareWithStdlib(t *testing.T, body []byte, evs []RawEvent) {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("accepted a body encoding/json rejects: %q", body)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	var objs []any
	if a, ok := top["events"].([]any); ok {
		objs = a
	} else {
		objs = []any{top}
	}
	if len(objs) != len(evs) {
		t.Fatalf("encoding/json sees %d events, Decode %d", len(objs), len(evs))
	}
	for i, o := range objs {
		m := o.(map[string]any)
		if id, ok := m[EventIDKey]; ok {
			if !strings.EqualFold(id.(string), evs[i].ID) {
				t.Fatalf("event_id %q vs %q", id, evs[i].ID)
			}
			delete(m, EventIDKey)
		}
		if !reflect.DeepEqual(m, evs[i].Fields) {
			t.Fatalf("event %d differs from encoding/json:\n %#v\n %#v", i, m, evs[i].Fields)
		}
	}
}

func BenchmarkDecodeValidate(b *testing.B) {
	ds := seedDataset()
	body := []byte(seedEvent)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		evs, err := Decode(body, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if _, errs := Validate(ds, evs[0], 0); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func TestValidateNegativeZero(t *testing.T) {
	vals, errs := Validate(typesDataset(), decodeOne(t, `{"anyn":-0.0}`), 0)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if x := vals["anyn"].(float64); math.Signbit(x) {
		t.Errorf("anyn = %v, want +0", x)
	}
	if b, _ := json.Marshal(vals); string(b) != `{"anyn":0}` {
		t.Errorf("stored as %s", b)
	}
}

func TestIntBounds(t *testing.T) {
	const p53 = 1 << 53
	tests := []struct {
		n         int64
		bound     float64
		below, ab bool
	}{
		{p53 + 1, p53, false, true}, // float64(p53+1) == p53: must not round
		{p53, p53, false, false},
		{-p53 - 1, -p53, true, false},
		{math.MaxInt64, 1e19, true, false}, // bound beyond int64
		{math.MinInt64, -1e19, false, true},
		{3, 2.5, false, true},
		{2, 2.5, true, false},
		{-3, -2.5, true, false},
	}
	for _, tc := range tests {
		if got := intBelow(tc.n, tc.bound); got != tc.below {
			t.Errorf("intBelow(%d, %v) = %v", tc.n, tc.bound, got)
		}
		if got := intAbove(tc.n, tc.bound); got != tc.ab {
			t.Errorf("intAbove(%d, %v) = %v", tc.n, tc.bound, got)
		}
	}
}
