package collect

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
)

// FieldError names one bad field of one event.
type FieldError struct {
	// Event is the index of the event in its batch (0 for a single event).
	Event int `json:"event"`
	// Path is like "number_emails", "screen_size.width" or
	// "event_stream[3][1]"; "" means the event as a whole.
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

// String renders the error for a detail message: "path: problem", with
// "event N: " in front for events after the first of a batch.
func (e FieldError) String() string {
	s := e.Problem
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Event > 0 {
		s = "event " + strconv.Itoa(e.Event) + ": " + s
	}
	return s
}

// Problems, shared so callers and tests can match them.
const (
	ProblemUnknown  = "unknown field: not declared in the registry"
	ProblemRequired = "is required"
	ProblemServer   = "set by the server; do not send"
	ProblemTooMany  = "too many problems; the rest were not checked"

	problemScalar = "must be a string, number, boolean or null"
)

// MaxUserAgent is the longest user agent string accepted, in bytes.
const MaxUserAgent = 512

// maxProblems bounds the problems reported per event, so a hostile body
// cannot turn into a response many times its size.
const maxProblems = 100

var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// Validate checks one event against the dataset's declared fields and
// returns the normalised values (integers as int64, numbers as float64,
// timestamps as UTC time.Time, UUIDs lowercased, everything else as
// decoded) and every problem found. Fields the client sent as null count
// as absent. Fields that come from the request or the server must not be
// sent at all. index is the event's position in its batch.
func Validate(ds *registry.Dataset, ev RawEvent, index int) (map[string]any, []FieldError) {
	v := validator{event: index}
	out := make(map[string]any, len(ev.Fields))
	matched := 0
	for _, f := range ds.Fields {
		val, present := ev.Fields[f.Name]
		if present {
			matched++
		}
		if f.Source == registry.SourceRequest || f.Source == registry.SourceServer {
			switch {
			case !present:
			case f.Type == registry.TypeUserAgent && f.Source == registry.SourceRequest:
				// The one request field a client may report too, as seed
				// 001's client does; the header's value wins when it has
				// one (Collector.minimiseEvent).
				if val != nil {
					v.push(f.Name)
					if ua, ok := v.clientUA(val); ok {
						out[f.Name] = ua
					}
					v.pop()
				}
			default:
				v.push(f.Name)
				v.add(ProblemServer)
				v.pop()
			}
			continue
		}
		if nv, ok := v.member(f, val, present); ok {
			out[f.Name] = nv
		}
	}
	if matched < len(ev.Fields) {
		v.unknown(ev.Fields, ds.Fields)
	}
	return out, v.errs
}

// seg is one step of the path to a value: a member key, or an array index
// when key is "" and index >= 0.
type seg struct {
	key   string
	index int
}

type validator struct {
	event int
	errs  []FieldError
	// path leads to the value being checked; it is turned into a string
	// only when a problem is reported.
	path []seg
}

func (v *validator) push(key string) { v.path = append(v.path, seg{key: key, index: -1}) }
func (v *validator) pushIndex(i int) { v.path = append(v.path, seg{index: i}) }
func (v *validator) pop()            { v.path = v.path[:len(v.path)-1] }

func (v *validator) pathString() string {
	var s string
	for _, g := range v.path {
		if g.index >= 0 {
			s += "[" + strconv.Itoa(g.index) + "]"
		} else {
			s = pathKey(s, g.key)
		}
	}
	return s
}

func (v *validator) add(problem string) {
	switch {
	case len(v.errs) < maxProblems:
		v.errs = append(v.errs, FieldError{Event: v.event, Path: v.pathString(), Problem: problem})
	case len(v.errs) == maxProblems:
		v.errs = append(v.errs, FieldError{Event: v.event, Problem: ProblemTooMany})
	}
}

// member checks one declared member of an event or object; ok is false
// when it is absent, null or invalid.
func (v *validator) member(f *registry.Field, val any, present bool) (any, bool) {
	if (!present || val == nil) && !f.Required {
		return nil, false
	}
	v.push(f.Name)
	defer v.pop()
	if !present || val == nil {
		v.add(ProblemRequired)
		return nil, false
	}
	return v.check(f, val)
}

// problemExpired starts the problem of a field past its own expiry.
const problemExpired = "expired on "

// expiredFields lists the fields of ds past their own expiry at now, nil
// when none is (the common case, checked once per request).
func expiredFields(ds *registry.Dataset, now time.Time) []*registry.Field {
	if !ds.FieldExpiry() {
		return nil
	}
	var out []*registry.Field
	for _, f := range ds.Fields {
		if f.Expired(now) {
			out = append(out, f)
		}
	}
	return out
}

// expiredErrors refuses an expired field the event carries and forgives
// its absence when it was required: it is no longer collected at all.
func expiredErrors(expired []*registry.Field, ev RawEvent, index int, errs []FieldError) []FieldError {
	for _, f := range expired {
		errs = slices.DeleteFunc(errs, func(e FieldError) bool { return e.Path == f.Name && e.Problem == ProblemRequired })
		if _, present := ev.Fields[f.Name]; present {
			errs = slices.DeleteFunc(errs, func(e FieldError) bool {
				return e.Path == f.Name || strings.HasPrefix(e.Path, f.Name+".") || strings.HasPrefix(e.Path, f.Name+"[")
			})
			errs = append(errs, FieldError{Event: index, Path: f.Name,
				Problem: problemExpired + f.Expires.Format(time.DateOnly) + ": no longer collected; stop sending it"})
		}
	}
	return errs
}

// unknown reports the members of m not declared in fields, in name order.
func (v *validator) unknown(m map[string]any, fields []*registry.Field) {
	var names []string
	for k := range m {
		if !slices.ContainsFunc(fields, func(f *registry.Field) bool { return f.Name == k }) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		v.push(k)
		v.add(ProblemUnknown)
		v.pop()
	}
}

// check validates val (not nil unless inside an array) against f.
func (v *validator) check(f *registry.Field, val any) (any, bool) {
	switch f.Type {
	case registry.TypeString:
		s, ok := val.(string)
		if !ok {
			return v.fail("must be a string")
		}
		if f.MaxLength > 0 && len(s) > f.MaxLength {
			return v.fail(fmt.Sprintf("longer than %d bytes", f.MaxLength))
		}
		return s, true

	case registry.TypeInteger:
		n, problem := integer(val)
		if problem != "" {
			return v.fail(problem)
		}
		if f.Min != nil && intBelow(n, *f.Min) {
			return v.fail("must be at least " + formatFloat(*f.Min))
		}
		if f.Max != nil && intAbove(n, *f.Max) {
			return v.fail("must be at most " + formatFloat(*f.Max))
		}
		return n, true

	case registry.TypeNumber:
		num, ok := val.(json.Number)
		if !ok {
			return v.fail("must be a number")
		}
		x, err := strconv.ParseFloat(string(num), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return v.fail("must be a finite number")
		}
		if f.Min != nil && x < *f.Min {
			return v.fail("must be at least " + formatFloat(*f.Min))
		}
		if f.Max != nil && x > *f.Max {
			return v.fail("must be at most " + formatFloat(*f.Max))
		}
		if x == 0 {
			x = 0 // no negative zero
		}
		return x, true

	case registry.TypeBoolean:
		b, ok := val.(bool)
		if !ok {
			return v.fail("must be true or false")
		}
		return b, true

	case registry.TypeEnum:
		s, ok := val.(string)
		if !ok || !slices.Contains(f.Values, s) {
			return v.fail("must be one of " + strings.Join(f.Values, ", "))
		}
		return s, true

	case registry.TypeTimestamp:
		t, problem := timestamp(val)
		if problem != "" {
			return v.fail(problem)
		}
		return t, true

	case registry.TypeUUID:
		s, _ := val.(string)
		id, ok := canonicalUUID(s)
		if !ok {
			return v.fail("must be a UUID like 123e4567-e89b-12d3-a456-426614174000")
		}
		return id, true

	case registry.TypeIP:
		s, ok := val.(string)
		if !ok {
			return v.fail("must be an IP address string")
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return v.fail("must be an IP address")
		}
		return s, true

	case registry.TypeUserAgent:
		s, ok := val.(string)
		if !ok {
			return v.fail("must be a user agent string")
		}
		limit := MaxUserAgent
		if f.MaxLength > 0 && f.MaxLength < limit {
			limit = f.MaxLength
		}
		if len(s) > limit {
			return v.fail(fmt.Sprintf("longer than %d bytes", limit))
		}
		return s, true

	case registry.TypeArray:
		a, ok := val.([]any)
		if !ok {
			return v.fail("must be an array")
		}
		if f.MaxItems > 0 && len(a) > f.MaxItems {
			return v.fail(fmt.Sprintf("has more than %d items", f.MaxItems))
		}
		out := make([]any, len(a))
		valid := true
		for i, item := range a {
			if f.Items == nil {
				if !scalar(item) {
					v.pushIndex(i)
					v.add(problemScalar)
					v.pop()
					valid = false
				}
				out[i] = item
				continue
			}
			v.pushIndex(i)
			nv, ok := v.check(f.Items, item)
			v.pop()
			valid = valid && ok
			out[i] = nv
		}
		return out, valid

	case registry.TypeObject:
		m, ok := val.(map[string]any)
		if !ok {
			return v.fail("must be an object")
		}
		if len(f.Fields) == 0 {
			if f.MaxKeys > 0 && len(m) > f.MaxKeys {
				return v.fail(fmt.Sprintf("has more than %d keys", f.MaxKeys))
			}
			valid := true
			for _, x := range m {
				valid = valid && scalar(x)
			}
			if !valid { // report in key order, so responses are stable
				for _, k := range sortedKeys(m) {
					if !scalar(m[k]) {
						v.push(k)
						v.add(problemScalar)
						v.pop()
					}
				}
			}
			return m, valid
		}
		out := make(map[string]any, len(m))
		before := len(v.errs)
		matched := 0
		for _, sub := range f.Fields {
			sv, present := m[sub.Name]
			if present {
				matched++
			}
			if nv, ok := v.member(sub, sv, present); ok {
				out[sub.Name] = nv
			}
		}
		if matched < len(m) {
			v.unknown(m, f.Fields)
		}
		return out, len(v.errs) == before
	}
	return v.fail(fmt.Sprintf("has type %q, which steward does not support", f.Type))
}

// Problems of a user agent a client reports itself.
const (
	problemClientUA     = "must be an object {os, browser, version}, e.g. {\"os\": \"iOS\", \"browser\": \"Safari\", \"version\": \"5.1\"}; or leave it out and let the User-Agent header say"
	problemClientUAPart = "must be a family name only, like iOS or Mobile Safari: letters, spaces, . - and _, at most 64 bytes, no version or device"
	problemClientUAVer  = "must be a version string or number of at most 16 characters, like \"5.1\""
)

// clientUA checks a user agent sent by the client: exactly the members os,
// browser and version, short text (the version may be a number), kept in
// coarse form only.
func (v *validator) clientUA(val any) (minimise.UserAgent, bool) {
	m, ok := val.(map[string]any)
	if !ok {
		v.add(problemClientUA)
		return minimise.UserAgent{}, false
	}
	before := len(v.errs)
	part := func(name string) string {
		s, ok := m[name].(string)
		if !ok || strings.TrimSpace(s) == "" || len(s) > 64 || !familyName(s) {
			v.push(name)
			v.add(problemClientUAPart)
			v.pop()
		}
		return s
	}
	os, browser := part("os"), part("browser")
	version, isText := "", false
	switch x := m["version"].(type) {
	case string:
		version, isText = x, true
	case json.Number:
		version, isText = string(x), true
	}
	if !isText || len(version) > 16 || !utf8.ValidString(version) {
		v.push("version")
		v.add(problemClientUAVer)
		v.pop()
	}
	for _, k := range sortedKeys(m) {
		if k != "os" && k != "browser" && k != "version" {
			v.push(k)
			v.add(ProblemUnknown)
			v.pop()
		}
	}
	if len(v.errs) > before {
		return minimise.UserAgent{}, false
	}
	return minimise.CoarseParts(browser, version, os)
}

// familyName: a coarse family is words, never a version or a device
// model, which would make the value finer than the coarse form steward
// keeps of a header.
func familyName(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && r != ' ' && r != '.' && r != '-' && r != '_' {
			return false
		}
	}
	return utf8.ValidString(s)
}

func (v *validator) fail(problem string) (any, bool) {
	v.add(problem)
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func scalar(v any) bool {
	switch v.(type) {
	case nil, string, bool, json.Number:
		return true
	}
	return false
}

// integer accepts only an integer literal (no fraction, no exponent)
// within int64.
func integer(val any) (int64, string) {
	num, ok := val.(json.Number)
	if !ok || !isIntLiteral(string(num)) {
		return 0, "must be an integer"
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return 0, "is out of range for a 64-bit integer"
	}
	return n, ""
}

func isIntLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// intBelow reports n < min exactly, without rounding n to float64.
func intBelow(n int64, min float64) bool {
	c := math.Ceil(min) // n < min  ⇔  n < ceil(min)
	switch {
	case math.IsNaN(c):
		return false
	case c > math.MaxInt64: // ≥ 2^63
		return true
	case c < math.MinInt64:
		return false
	}
	return n < int64(c)
}

// intAbove reports n > max exactly.
func intAbove(n int64, max float64) bool {
	f := math.Floor(max) // n > max  ⇔  n > floor(max)
	switch {
	case math.IsNaN(f):
		return false
	case f >= math.MaxInt64: // ≥ 2^63
		return false
	case f < math.MinInt64:
		return true
	}
	return n > int64(f)
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// msThreshold separates unix seconds from milliseconds: 1e11 seconds is
// the year 5138, 1e11 milliseconds is 1973.
const msThreshold = 1e11

const (
	problemTimestamp = "must be a unix time in seconds or milliseconds, or an RFC 3339 string"
	problemTimeRange = "must be between 1970 and 9999"
)

// timestamp accepts integer unix seconds or milliseconds, or an RFC 3339
// string, between 1970 and the end of 9999.
func timestamp(val any) (time.Time, string) {
	var t time.Time
	switch x := val.(type) {
	case json.Number:
		if !isIntLiteral(string(x)) {
			return t, problemTimestamp
		}
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil || n < 0 || n > maxTime.UnixMilli() {
			return t, problemTimeRange
		}
		if n > msThreshold {
			t = time.UnixMilli(n).UTC()
		} else {
			t = time.Unix(n, 0).UTC()
		}
	case string:
		p, err := time.Parse(time.RFC3339, x)
		if err != nil {
			return t, problemTimestamp
		}
		t = p.UTC()
	default:
		return t, problemTimestamp
	}
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, problemTimeRange
	}
	return t, ""
}

// pathKey appends an object member to a path: plain names as ".name",
// anything else quoted as ["..."] (shortened), so hostile keys cannot
// forge paths or flood messages.
func pathKey(prefix, name string) string {
	if isPlainName(name) {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	return prefix + "[" + quoteKey(name) + "]"
}

func isPlainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
