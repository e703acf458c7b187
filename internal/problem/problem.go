// Package problem writes RFC 9457 problem details, the one error shape of
// steward's HTTP API.
package problem

import (
	"encoding/json"
	"net/http"
)

// Details is an RFC 9457 problem. Type is a short steward-specific URN so
// clients can branch on it without parsing prose.
type Details struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists every offending field, for validation failures.
	Errors any `json:"errors,omitempty"`
}

// Write sends p with its status and the problem+json content type.
func Write(w http.ResponseWriter, p Details) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// New is shorthand for Write with a type, status and detail.
func New(w http.ResponseWriter, status int, typ, detail string) {
	Write(w, Details{Type: "urn:steward:problem:" + typ, Status: status, Detail: detail})
}
