// Package static serves steward's stylesheet: pages load nothing from
// another host and nothing inline (the CSP forbids both).
package static

import (
	"embed"
	"net/http"
)

//go:embed *.css
var files embed.FS

// Handler serves /static/.
func Handler() http.Handler {
	fs := http.StripPrefix("/static/", http.FileServer(http.FS(files)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
