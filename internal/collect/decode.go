package collect

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits bound what one request body may contain.
type Limits struct {
	// MaxBatch is the most events one body may carry (default 100).
	MaxBatch int
	// MaxDepth is the deepest nesting of objects and arrays inside one
	// event, counting the event object itself as 1 (default 16). The same
	// event is accepted alone or inside a batch.
	MaxDepth int
}

// Default limits.
const (
	DefaultMaxBatch = 100
	DefaultMaxDepth = 16
)

func (l Limits) withDefaults() Limits {
	if l.MaxBatch <= 0 {
		l.MaxBatch = DefaultMaxBatch
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// RawEvent is one decoded event: its fields and the optional client event id.
type RawEvent struct {
	// ID is the client's event id (a lowercase canonical UUID), or "".
	// It is taken out of Fields.
	ID string
	// Fields holds string, bool, nil, json.Number, []any and map[string]any
	// values.
	Fields map[string]any
}

// EventIDKey is the member of an event that carries the client event id.
const EventIDKey = "event_id"

// DecodeError says why and where a body could not be decoded. Detail never
// echoes the body's content beyond single characters.
type DecodeError struct {
	// Offset is the byte offset in the body where the problem was found.
	Offset int64
	Detail string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s (at byte %d)", e.Detail, e.Offset)
}

// Decode parses a body that is either one event object or
// {"events":[obj,...]}. It is strict: empty bodies, invalid UTF-8, syntax
// errors, trailing data, duplicate keys at any depth, nesting deeper than
// lim.MaxDepth, empty or oversized batches, non-object events, NUL
// characters in strings and event ids that are not UUIDs are all rejected
// with a *DecodeError.
func Decode(body []byte, lim Limits) ([]RawEvent, error) {
	lim = lim.withDefaults()
	if !utf8.Valid(body) {
		return nil, &DecodeError{Offset: int64(firstInvalidUTF8(body)), Detail: "the body is not valid UTF-8"}
	}
	// One copy of the body backs every key and value without escapes, so
	// they cost no allocation of their own; the copy lives as long as the
	// decoded events do.
	d := decoder{data: body, src: string(body), maxDepth: lim.MaxDepth, maxBatch: lim.MaxBatch}
	evs, err := d.body()
	if err != nil {
		return nil, err
	}
	return evs, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

type decoder struct {
	data     []byte
	src      string // string(data)
	pos      int
	maxDepth int
	maxBatch int
}

func (d *decoder) fail(off int, format string, args ...any) *DecodeError {
	return &DecodeError{Offset: int64(off), Detail: fmt.Sprintf(format, args...)}
}

// unexpected reports the byte at d.pos (or the end of input) while
// looking for what.
func (d *decoder) unexpected(what string) *DecodeError {
	if d.pos >= len(d.data) {
		return d.fail(d.pos, "unexpected end of input, expected %s", what)
	}
	r, _ := utf8.DecodeRune(d.data[d.pos:])
	return d.fail(d.pos, "invalid character %s, expected %s", quoteRune(r), what)
}

func quoteRune(r rune) string {
	if r == '\'' {
		return `"'"`
	}
	return strconv.QuoteRuneToASCII(r)
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) body() ([]RawEvent, error) {
	d.ws()
	if d.pos >= len(d.data) {
		return nil, d.fail(0, "the body is empty")
	}
	if d.data[d.pos] != '{' {
		return nil, d.fail(d.pos, `the body must be a JSON object: one event or {"events":[...]}`)
	}
	start := d.pos
	d.pos++
	fields := make(map[string]any)
	var (
		batch   []RawEvent
		isBatch bool
		idOff   = -1
	)
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
	} else {
		for {
			d.ws()
			keyOff := d.pos
			key, err := d.key()
			if err != nil {
				return nil, err
			}
			if _, dup := fields[key]; dup {
				return nil, d.fail(keyOff, "duplicate key %s", quoteKey(key))
			}
			if err := d.colon(); err != nil {
				return nil, err
			}
			d.ws()
			if key == "events" && d.pos < len(d.data) && d.data[d.pos] == '[' {
				if len(fields) > 0 {
					return nil, d.fail(keyOff, `a batch must have no other top-level key than "events"`)
				}
				if batch, err = d.batch(); err != nil {
					return nil, err
				}
				isBatch = true
				fields[key] = nil // marks the key as seen
			} else {
				if isBatch {
					return nil, d.fail(keyOff, `a batch must have no other top-level key than "events"`)
				}
				if key == EventIDKey {
					idOff = d.pos
				}
				v, err := d.value(2)
				if err != nil {
					return nil, err
				}
				fields[key] = v
			}
			done, err := d.next('}', "object")
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
		}
	}
	d.ws()
	if d.pos < len(d.data) {
		return nil, d.fail(d.pos, "trailing data after the JSON value")
	}
	if isBatch {
		return batch, nil
	}
	ev, err := d.event(fields, idOff, start)
	if err != nil {
		return nil, err
	}
	return []RawEvent{ev}, nil
}

// event takes the event id out of fields.
func (d *decoder) event(fields map[string]any, idOff, objOff int) (RawEvent, error) {
	ev := RawEvent{Fields: fields}
	v, ok := fields[EventIDKey]
	if !ok {
		return ev, nil
	}
	s, isStr := v.(string)
	id, valid := canonicalUUID(s)
	if !isStr || !valid {
		if idOff < 0 {
			idOff = objOff
		}
		return ev, d.fail(idOff, "event_id must be a UUID string like 123e4567-e89b-12d3-a456-426614174000")
	}
	ev.ID = id
	delete(fields, EventIDKey)
	return ev, nil
}

func (d *decoder) batch() ([]RawEvent, error) {
	arrOff := d.pos
	d.pos++ // '['
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		return nil, d.fail(arrOff, "the batch is empty")
	}
	var evs []RawEvent
	for {
		d.ws()
		if len(evs) == d.maxBatch {
			return nil, d.fail(d.pos, "the batch has more than %d events", d.maxBatch)
		}
		if d.pos >= len(d.data) || d.data[d.pos] != '{' {
			if d.pos < len(d.data) && isValueStart(d.data[d.pos]) {
				return nil, d.fail(d.pos, "events[%d] must be a JSON object", len(evs))
			}
			return nil, d.unexpected("an event object")
		}
		objOff := d.pos
		idOff := -1
		fields, err := d.object(1, &idOff)
		if err != nil {
			return nil, err
		}
		ev, err := d.event(fields, idOff, objOff)
		if err != nil {
			err.(*DecodeError).Detail = fmt.Sprintf("events[%d]: %s", len(evs), err.(*DecodeError).Detail)
			return nil, err
		}
		evs = append(evs, ev)
		done, err := d.next(']', "array")
		if err != nil {
			return nil, err
		}
		if done {
			return evs, nil
		}
	}
}

func isValueStart(c byte) bool {
	switch c {
	case '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// next consumes the separator after a member or element: it reports true
// at the closing delimiter and false after a comma.
func (d *decoder) next(closing byte, in string) (bool, error) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return false, nil
		case closing:
			d.pos++
			return true, nil
		}
	}
	return false, d.unexpected(fmt.Sprintf("',' or '%c' in %s", closing, in))
}

func (d *decoder) colon() error {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ':' {
		d.pos++
		return nil
	}
	return d.unexpected("':' after object key")
}

func (d *decoder) key() (string, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.unexpected("a string object key")
	}
	return d.str()
}

// value parses the value at d.pos; depth is the nesting level a container
// starting here would have.
func (d *decoder) value(depth int) (any, error) {
	d.ws()
	if d.pos >= len(d.data) {
		return nil, d.unexpected("a value")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object(depth, nil)
	case '[':
		return d.array(depth)
	case '"':
		return d.str()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return nil, d.unexpected("a value")
	}
}

func (d *decoder) literal(lit string) error {
	end := d.pos + len(lit)
	if end <= len(d.src) && d.src[d.pos:end] == lit {
		d.pos = end
		return nil
	}
	return d.fail(d.pos, "invalid literal, expected %s", lit)
}

func (d *decoder) tooDeep() error {
	return d.fail(d.pos, "nesting deeper than %d levels", d.maxDepth)
}

// object parses an object; with idOff set (an event object) it records
// where the event id's value starts.
func (d *decoder) object(depth int, idOff *int) (map[string]any, error) {
	if depth > d.maxDepth {
		return nil, d.tooDeep()
	}
	d.pos++ // '{'
	m := make(map[string]any)
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.ws()
		keyOff := d.pos
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			return nil, d.fail(keyOff, "duplicate key %s", quoteKey(key))
		}
		if err := d.colon(); err != nil {
			return nil, err
		}
		if idOff != nil && key == EventIDKey {
			d.ws()
			*idOff = d.pos
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[key] = v
		done, err := d.next('}', "object")
		if err != nil {
			return nil, err
		}
		if done {
			return m, nil
		}
	}
}

func (d *decoder) array(depth int) ([]any, error) {
	if depth > d.maxDepth {
		return nil, d.tooDeep()
	}
	d.pos++ // '['
	a := []any{}
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		done, err := d.next(']', "array")
		if err != nil {
			return nil, err
		}
		if done {
			return a, nil
		}
	}
}

// number checks the JSON number grammar and returns the literal.
func (d *decoder) number() (json.Number, error) {
	start := d.pos
	p := d.pos
	b := d.data
	digits := func() int {
		n := 0
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			p++
			n++
		}
		return n
	}
	if p < len(b) && b[p] == '-' {
		p++
	}
	switch {
	case p < len(b) && b[p] == '0':
		p++
	case p < len(b) && b[p] >= '1' && b[p] <= '9':
		digits()
	default:
		d.pos = p
		return "", d.unexpected("a digit in number")
	}
	if p < len(b) && b[p] == '.' {
		p++
		if digits() == 0 {
			d.pos = p
			return "", d.unexpected("a digit after the decimal point")
		}
	}
	if p < len(b) && (b[p] == 'e' || b[p] == 'E') {
		p++
		if p < len(b) && (b[p] == '+' || b[p] == '-') {
			p++
		}
		if digits() == 0 {
			d.pos = p
			return "", d.unexpected("a digit in exponent")
		}
	}
	d.pos = p
	return json.Number(d.src[start:p]), nil
}

// str parses a string at d.pos (which is '"').
func (d *decoder) str() (string, error) {
	start := d.pos
	d.pos++
	b := d.data
	// Fast path: no escapes.
	p := d.pos
	for p < len(b) {
		c := b[p]
		if c == '"' {
			s := d.src[d.pos:p]
			d.pos = p + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p++
	}
	buf := make([]byte, 0, p-d.pos+16)
	buf = append(buf, b[d.pos:p]...)
	for {
		if p >= len(b) {
			return "", d.fail(start, "unterminated string")
		}
		c := b[p]
		switch {
		case c == '"':
			d.pos = p + 1
			return string(buf), nil
		case c < 0x20:
			return "", d.fail(p, "control character %s in string must be escaped", quoteRune(rune(c)))
		case c != '\\':
			buf = append(buf, c)
			p++
			continue
		}
		// Escape sequence.
		if p+1 >= len(b) {
			return "", d.fail(start, "unterminated string")
		}
		esc := b[p+1]
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(b, p+2)
			if !ok {
				return "", d.fail(p, `invalid \u escape in string`)
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if p+7 < len(b) && b[p+6] == '\\' && b[p+7] == 'u' {
					r2, ok2 = hex4(b, p+8)
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok2 || dec == utf8.RuneError {
					return "", d.fail(p, "unpaired UTF-16 surrogate escape in string")
				}
				r, n = dec, 12
			}
			if r == 0 {
				return "", d.fail(p, "NUL character in string")
			}
			buf = utf8.AppendRune(buf, r)
			p += n
			continue
		default:
			return "", d.fail(p, "invalid escape sequence in string")
		}
		p += 2
	}
}

func hex4(b []byte, p int) (rune, bool) {
	if p+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[p : p+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// canonicalUUID checks the 8-4-4-4-12 hex form and lowercases it.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	var out [36]byte
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			case c >= 'A' && c <= 'F':
				c += 'a' - 'A'
			default:
				return "", false
			}
		}
		out[i] = c
	}
	return string(out[:]), true
}

// quoteKey quotes a key for an error message, shortened so a hostile
// multi-kilobyte key is not echoed back whole.
func quoteKey(k string) string {
	const max = 64
	if len(k) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(k[cut]) {
			cut--
		}
		return strconv.Quote(k[:cut]) + "…"
	}
	return strconv.Quote(k)
}
