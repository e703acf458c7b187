package readapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// PurposeHeader names the purpose of a read when it is not a parameter.
const PurposeHeader = "X-Steward-Purpose"

var purposeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// purposeOf returns the declared purpose: the purpose parameter, the
// X-Steward-Purpose header, or fallback (from a request body). Giving two
// different ones is a mistake, not a choice.
func purposeOf(r *http.Request, fallback string) (string, error) {
	var found []string
	for _, p := range []string{r.URL.Query().Get("purpose"), r.Header.Get(PurposeHeader), fallback} {
		if p != "" && !slices.Contains(found, p) {
			found = append(found, p)
		}
	}
	switch {
	case len(found) == 0:
		return "", errors.New("every read names its purpose: add ?purpose=… or the X-Steward-Purpose header (GET /v1/datasets lists yours)")
	case len(found) > 1:
		return "", fmt.Errorf("two different purposes given (%q and %q); name one", found[0], found[1])
	case !purposeRE.MatchString(found[0]):
		return "", errors.New("a purpose is a lower-case word like product_improvement (letters, digits, _; at most 64)")
	}
	return found[0], nil
}

// withheld lists the fields a decision does not let through: those above
// the granted category, and a subject identifier stored as given unless the
// rule grants raw identifiers (the keyed subject key is always sent).
func withheld(ds *registry.Dataset, d policy.Decision) []string {
	out := []string{}
	if !d.Allowed {
		return out
	}
	for _, f := range ds.Fields {
		switch {
		case f.Category > d.MaxCategory:
			out = append(out, f.Name)
		case ds.Subject != nil && f.Name == ds.Subject.Field && !f.Minimise.Hash && !d.RawIdentifiers:
			out = append(out, f.Name)
		}
	}
	return out
}

// describe is the access log's account of what was asked: the route and
// the query's bounds, never a raw identifier or a credential.
func describe(r *http.Request, q store.EventQuery, stream, lookup bool) string {
	v := url.Values{}
	v.Set("from", q.From.Format("2006-01-02T15:04:05Z07:00"))
	v.Set("to", q.To.Format("2006-01-02T15:04:05Z07:00"))
	if q.AfterSeq > 0 {
		v.Set("after", fmt.Sprint(q.AfterSeq))
	}
	kind := "events"
	switch {
	case lookup:
		kind = "lookup"
	case stream:
		kind = "stream"
	default:
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	return kind + " " + v.Encode()
}
