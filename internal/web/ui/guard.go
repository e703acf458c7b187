package ui

import "net/http"

// Protect is the CSRF defence of every page: a state-changing request that
// a browser marks as coming from another origin (Sec-Fetch-Site, or an
// Origin header that does not match the host) is refused with the 403
// error page before h runs, so nothing changes. origins is the server's
// one http.CrossOriginProtection; site is as in Page, for the refusal's
// layout. Safe methods (GET, HEAD) always pass.
//
// Signed-in forms also carry the session's token (CSRFField) as defence in
// depth; the public forms carry none, since they need no cookie and act
// only with what the person typed or the link they were sent.
func Protect(origins *http.CrossOriginProtection, site string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := origins.Check(r); err != nil {
			Error(w, r, http.StatusForbidden, Problem{Site: site, Title: "This form came from another site",
				Text: "For your safety, forms are accepted only from this site's own pages; nothing was changed. Go back, reload the page and send the form again."})
			return
		}
		h.ServeHTTP(w, r)
	})
}
