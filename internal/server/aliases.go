package server

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/steward-privacy/steward/internal/collect"
	"github.com/steward-privacy/steward/internal/registry"
)

// AliasRoute stands in the route table for every dataset's path alias
// (POST and OPTIONS, open to anyone like /v1/collect/{dataset}).
const AliasRoute = "POST|OPTIONS {path_alias}"

// aliases sends a POST or OPTIONS whose path is a dataset's alias in the
// registry in force to collection, and everything else to next. A lookup
// is one map read, so it costs the other routes nothing.
func aliases(regs *registry.Source, col *collect.Collector, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || r.Method == http.MethodOptions {
			if ds := regs.Current().DatasetByAlias(r.URL.Path); ds != nil {
				col.ServeAliased(w, r, ds)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// aliasesFree refuses a registry with an alias that is also one of
// steward's own routes: the alias would silently take the route's POSTs.
// Registry lint reserves steward's prefixes; this catches what lint
// cannot know, such as a route added later.
func aliasesFree(mux *http.ServeMux) func(*registry.Registry) error {
	return func(reg *registry.Registry) error {
		for _, d := range reg.Datasets {
			if d.PathAlias == "" {
				continue
			}
			probe := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: d.PathAlias}}
			if _, pattern := mux.Handler(probe); pattern != "" {
				return fmt.Errorf("datasets.%s.path_alias: %s is steward's own route %q", d.Name, d.PathAlias, pattern)
			}
		}
		return nil
	}
}
