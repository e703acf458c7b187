// Package static serves steward's stylesheet and icon: pages load nothing
// from another host and nothing inline (the CSP forbids both).
package static

import (
	"embed"
	"net/http"
)

//go:embed *.css *.svg
var files embed.FS

// Favicon serves the icon at /favicon.ico too, where browsers look for it
// without being told; as SVG it is a few hundred bytes at any size.
func Favicon() http.Handler {
	icon, _ := files.ReadFile("favicon.svg")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(icon)
	})
}

// Handler serves /static/.
func Handler() http.Handler {
	fs := http.StripPrefix("/static/", http.FileServer(http.FS(files)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
