package readapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/collect"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/store"
)

// lookupRequest is the body of POST /v1/datasets/{name}/lookup. The
// identifier travels in the body, never in the URL, so it stays out of
// proxy and server logs.
type lookupRequest struct {
	Subject json.RawMessage `json:"subject"`
	From    string          `json:"from"`
	To      string          `json:"to"`
	Limit   int             `json:"limit"`
	Cursor  string          `json:"cursor"`
	Purpose string          `json:"purpose"`
}

// maxLookupBody bounds a lookup request.
const maxLookupBody = 8 << 10

// Lookup handles POST /v1/datasets/{name}/lookup: one subject's events in
// a time window (seed 004's "given an address and a time, what happened"),
// for roles whose rule allows lookups. The entry carries the subject's key.
func (a *API) Lookup(w http.ResponseWriter, r *http.Request) {
	ds := a.Registry.Current().Dataset(r.PathValue("name"))
	if ds == nil {
		problem.New(w, http.StatusNotFound, "unknown-dataset", "no dataset of that name is declared in the registry")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		problem.New(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "send the lookup as application/json")
		return
	}
	var req lookupRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLookupBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem.New(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("a lookup is at most %d bytes", maxLookupBody))
			return
		}
		problem.New(w, http.StatusBadRequest, "bad-json", "the body must be one JSON object with subject, from, to and optionally limit, cursor, purpose: "+err.Error())
		return
	}
	if dec.More() {
		problem.New(w, http.StatusBadRequest, "bad-json", "unexpected data after the JSON object")
		return
	}
	purpose, err := purposeOf(r, req.Purpose)
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-purpose", err.Error())
		return
	}
	if len(req.Subject) == 0 || string(req.Subject) == "null" {
		problem.New(w, http.StatusBadRequest, "bad-query", "subject is required: the identifier as collected, e.g. the client id")
		return
	}
	// Numbers stay literals, as collection's decoder keeps them.
	var ident any
	sd := json.NewDecoder(strings.NewReader(string(req.Subject)))
	sd.UseNumber()
	if err := sd.Decode(&ident); err != nil {
		problem.New(w, http.StatusBadRequest, "bad-query", "subject is not valid JSON")
		return
	}
	keys, err := collect.SubjectKeys(a.Keyer, ds, ident)
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-query", err.Error())
		return
	}
	limit := ""
	if req.Limit != 0 {
		limit = fmt.Sprint(req.Limit)
	}
	q, err := parseQuery(ds.Name, req.From, req.To, limit, req.Cursor, keys[0])
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-query", err.Error())
		return
	}
	rd := a.begin(w, r, ds, purpose, q, false, true)
	if rd == nil {
		return
	}
	rd.otherKeys = keys[1:]
	a.page(w, r, rd)
}

// list reads one page. A lookup with more keys reads each and merges them
// in Seq order, so a page is still the first q.Limit matches after
// q.AfterSeq and the cursor works across keys. The extra read happens
// only for an identifier given in a form that is not normalised.
func (a *API) list(ctx context.Context, rd *read) ([]store.Event, error) {
	evs, err := a.Store.ListEvents(ctx, rd.q)
	if err != nil || len(rd.otherKeys) == 0 {
		return evs, err
	}
	for _, k := range rd.otherKeys {
		q := rd.q
		q.SubjectKey = k
		more, err := a.Store.ListEvents(ctx, q)
		if err != nil {
			return nil, err
		}
		evs = append(evs, more...)
	}
	// An event has one key, so the lists do not overlap.
	slices.SortFunc(evs, func(x, y store.Event) int { return cmp.Compare(x.Seq, y.Seq) })
	return evs[:min(len(evs), rd.q.Limit)], nil
}
