package pgaudit

import "bytes"

// nextRecord finds the end of the first complete csvlog record in b: the
// offset just past the newline that ends it, or -1 when b holds only part
// of one. A newline inside a quoted field (a statement over several lines)
// does not end a record. PostgreSQL quotes every quote it writes, so its
// own records always balance; a line written halfway (the last one, while
// PostgreSQL writes it) is not complete until its newline arrives.
func nextRecord(b []byte) int {
	quoted := false
	for i, c := range b {
		switch c {
		case '"':
			quoted = !quoted
		case '\n':
			if !quoted {
				return i + 1
			}
		}
	}
	return -1
}

// resync returns the offset of the next line in b that starts like a
// csvlog record (a log_time), or -1. It is used only after a record too
// long to be one, to find where the next one starts.
func resync(b []byte) int {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if looksLikeStart(b[i:]) {
			return i
		}
	}
	return -1
}

// looksLikeStart reports whether b begins "YYYY-MM-DD HH:MM:SS".
func looksLikeStart(b []byte) bool {
	const shape = "0000-00-00 00:00:00"
	if len(b) < len(shape) {
		return false
	}
	for i := range len(shape) {
		if shape[i] == '0' {
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		} else if b[i] != shape[i] {
			return false
		}
	}
	return true
}
