package ui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NotText is the sentence a form shows for a field that is not text.
const NotText = "is not valid text: it holds bytes that are not UTF-8, or a control character. Type it again."

// IsText reports whether a form field may be stored or looked up: valid
// UTF-8 (pages are sent as charset=utf-8, and PostgreSQL refuses anything
// else as if it were down) without control characters, NUL included.
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// ValidText is s as a page may show it again: bytes that are not UTF-8
// become U+FFFD, so the page of a refused form is valid UTF-8 itself.
func ValidText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
