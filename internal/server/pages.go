package server

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/steward-privacy/steward/internal/web/ui"
)

// pageOrigins is the one cross-origin guard of every page. Browsers name
// the origin of a form post (Sec-Fetch-Site, or Origin for older ones), so
// a post from another site is refused without any token or cookie. The
// public URL is trusted as steward's own origin, so an older browser behind
// a proxy that rewrites Host still gets through.
func pageOrigins(publicURL string, log *slog.Logger) *http.CrossOriginProtection {
	g := http.NewCrossOriginProtection()
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		if err := g.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			log.Warn("pages: the public URL is not a usable origin", "err", err)
		}
	}
	return g
}

// publicPage registers a page anyone may open (the sign-in form, the data
// subject's pages): no session, but the same cross-origin guard as every
// page. site names whose pages they are in the layout (ui.Page.Site).
func (s *Server) publicPage(pattern, site string, h http.Handler) {
	s.handle(pattern, nil, ui.Protect(s.origins, site, h))
}
