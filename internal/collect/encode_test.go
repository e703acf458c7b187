package collect

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/minimise"
)

// appendJSON must produce exactly what json.Marshal does: stored events
// written before and after it existed are then indistinguishable.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, int64(0), int64(-9223372036854775808), int64(42),
		0.0, -1.5, 1e21, 1e-7, 123456789.125, json.Number("1e400"), json.Number("-0.5"),
		"", "plain text", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\x00", "é€😀", "\u2028\u2029", "bad \xff utf-8",
		[]any{}, []any{"a", int64(1), []any{nil}, map[string]any{}},
		map[string]any{"z": int64(1), "a": "x", "é": true, "<": []any{1.5}, "nested": map[string]any{"b": nil, "a": json.Number("7")}},
		minimise.UserAgent{Browser: "Firefox", Version: "121", OS: "Linux"}, minimise.UserAgent{Browser: "Other"}, minimise.UserAgent{Browser: `a"b`},
		time.Date(2026, 11, 22, 12, 30, 0, 0, time.UTC),
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON([]byte("prefix"), v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%#v:\n got %s\nwant prefix%s", v, got, want)
		}
	}
	for _, f := range []float64{math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-6, 1e-6, 9.99999e-7, 1e20, 1e21, -0.0, 0.1, 1.0 / 3, 5e-324, 123e-10} {
		want, _ := json.Marshal(f)
		if got, _ := appendJSON(nil, f); !bytes.Equal(got, want) {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
	if _, err := appendJSON(nil, math.NaN()); err == nil {
		t.Error("NaN must be refused, as encoding/json does")
	}
	if _, err := appendJSON(nil, map[string]any{"c": make(chan int)}); err == nil {
		t.Error("a value encoding/json refuses must be refused")
	}
}

// FuzzAppendFloat checks number formatting bit pattern by bit pattern.
func FuzzAppendFloat(f *testing.F) {
	f.Add(uint64(0x3eb0c6f7a0b5ed8d)) // 1e-6
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		want, err := json.Marshal(x)
		got, gerr := appendJSON(nil, x)
		if (err == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s (%v), want %s (%v)", x, got, gerr, want, err)
		}
	})
}

// FuzzAppendJSON decodes arbitrary JSON the way the collector does and
// checks both encoders agree on the result.
func FuzzAppendJSON(f *testing.F) {
	f.Add(`{"a":[1,"x",{"b":null}],"c":"<&>"}`)
	f.Add(`"\u2028 \ud800"`)
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		if d.Decode(&v) != nil {
			return
		}
		want, err := json.Marshal(v)
		if err != nil {
			return
		}
		got, err := appendJSON(nil, v)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s (%v), want %s", s, got, err, want)
		}
	})
}

// BenchmarkEncodeEvent encodes seed 001's event in its stored form (the
// validated values, timestamp rounded to text and user agent coarsened as
// minimisation leaves them), with appendJSON and with json.Marshal.
func BenchmarkEncodeEvent(b *testing.B) {
	ev, errs := Validate(seedDataset(), decodeOne(b, seedEvent), 0)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	ev["timestamp"] = ev["timestamp"].(time.Time).Format(time.RFC3339)
	ev["user_agent"] = minimise.UserAgent{Browser: "Safari", Version: "5", OS: "iOS"}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendJSON(make([]byte, 0, 512), ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
