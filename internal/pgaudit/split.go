package pgaudit

import (
	"bytes"
	"encoding/csv"
	"strings"
)

// nextRecord finds the end of the first complete csvlog record in b: the
// offset just past the newline that ends it, or -1 when b holds only part
// of one. A newline inside a quoted field (a statement over several lines)
// does not end a record. PostgreSQL doubles every quote it writes inside
// a field, so a statement can never close its field early or fake the
// start of another record; and a line written halfway (the last one, while
// PostgreSQL writes it) is not complete until its newline arrives.
func nextRecord(b []byte) int {
	end, _ := scanRecord(b, false)
	return end
}

// scanRecord is nextRecord from inside a record whose quoting so far is
// quoted; with no end in b it also returns the quoting at b's end, so a
// record too long to hold can be passed over chunk by chunk.
func scanRecord(b []byte, quoted bool) (int, bool) {
	for i, c := range b {
		switch c {
		case '"':
			quoted = !quoted
		case '\n':
			if !quoted {
				return i + 1, false
			}
		}
	}
	return -1, quoted
}

// leadingFields reads the first n fields of a CSV line that may be cut
// short, unquoting them, and returns them with the rest of b after the
// comma that ends the n-th; false when b ends before that.
func leadingFields(b []byte, n int) ([]string, []byte, bool) {
	var out []string
	for len(out) < n {
		if len(b) > 0 && b[0] == '"' {
			var sb strings.Builder
			i := 1
			for ; i < len(b); i++ {
				if b[i] != '"' {
					sb.WriteByte(b[i])
					continue
				}
				if i+1 < len(b) && b[i+1] == '"' {
					sb.WriteByte('"')
					i++
					continue
				}
				break // the closing quote
			}
			if i+1 >= len(b) || b[i+1] != ',' {
				return nil, nil, false
			}
			out = append(out, sb.String())
			b = b[i+2:]
			continue
		}
		j := bytes.IndexAny(b, ",\"\n")
		if j < 0 || b[j] != ',' {
			return nil, nil, false
		}
		out = append(out, string(b[:j]))
		b = b[j+1:]
	}
	return out, b, true
}

// headFields rebuilds a record too long to read whole from its start:
// the columns before the message, and a message with pgaudit's fields up
// to the object name and the statement left out. false when the start is
// not that of a pgaudit line.
func headFields(b []byte) ([]string, bool) {
	cols, rest, ok := leadingFields(b, colMessage)
	if !ok || len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	// The message is a quoted field cut short: unquote what there is.
	msg := strings.ReplaceAll(string(rest[1:]), `""`, `"`)
	body, ok := strings.CutPrefix(msg, auditPrefix)
	if !ok {
		return nil, false
	}
	audit, _, ok := leadingFields([]byte(body), 7)
	if !ok {
		return nil, false
	}
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	_ = w.Write(append(audit, "<not read: the record is over the size bound>", "<not logged>"))
	w.Flush()
	return append(cols, auditPrefix+strings.TrimSuffix(sb.String(), "\n")), true
}

// looksLikeStart reports whether b begins "YYYY-MM-DD HH:MM:SS", as every
// csvlog record does (its log_time).
func looksLikeStart(b []byte) bool {
	if len(b) < len(startShape) {
		return false
	}
	for i := range len(startShape) {
		if startShape[i] == '0' {
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		} else if b[i] != startShape[i] {
			return false
		}
	}
	return true
}

const startShape = "0000-00-00 00:00:00"
