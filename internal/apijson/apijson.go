// Package apijson reads and writes the JSON bodies of steward's API:
// one strict reader (one object, no unknown members, a size bound) whose
// refusals are problem+json, and one writer.
package apijson

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/steward-privacy/steward/internal/problem"
)

// Decode reads one JSON object of at most max bytes into v, refusing
// another content type, unknown members and trailing data with a
// specific problem. limit words max for the message ("1 MiB"). It
// reports whether v was filled; when not, the answer is written.
func Decode(w http.ResponseWriter, r *http.Request, v any, max int64, limit string) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		problem.New(w, http.StatusUnsupportedMediaType, "content-type", "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem.New(w, http.StatusRequestEntityTooLarge, "too-large", "a body is at most "+limit)
			return false
		}
		problem.New(w, http.StatusBadRequest, "bad-json", "the body must be one JSON object: "+err.Error())
		return false
	}
	if dec.More() {
		problem.New(w, http.StatusBadRequest, "bad-json", "unexpected data after the JSON object")
		return false
	}
	return true
}

// Write answers v as indented JSON that no cache keeps.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
