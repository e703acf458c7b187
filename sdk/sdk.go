// Package sdk serves the browser SDK from steward itself, so pages never
// load a script from another host.
package sdk

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
)

// StewardJS is the browser SDK.
//
//go:embed js/steward.js
var StewardJS []byte

var etag = func() string {
	s := sha256.Sum256(StewardJS)
	return `"` + hex.EncodeToString(s[:8]) + `"`
}()

// Handler serves StewardJS with caching headers.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(StewardJS)
	})
}
