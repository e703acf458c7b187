// Package readapi lets authorised staff read collected events back by date
// range, as JSON pages with a cursor or as one NDJSON stream.
package readapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// Page size limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// streamChunk is how many events a stream reads per query: the stream
	// holds one chunk in memory, never the range.
	streamChunk = 1000
)

// API serves the read endpoints.
type API struct {
	Registry *registry.Registry
	Store    store.Events
	Log      *slog.Logger
}

type datasetInfo struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Purpose     string      `json:"purpose"`
	LawfulBasis string      `json:"lawful_basis"`
	Retention   string      `json:"retention"`
	Owner       string      `json:"owner"`
	Expires     string      `json:"expires"`
	SampleRate  float64     `json:"sample_rate"`
	Fingerprint string      `json:"fingerprint"`
	Fields      []fieldInfo `json:"fields"`
}

type fieldInfo struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Category    int    `json:"category"`
	Description string `json:"description,omitempty"`
	Fingerprint string `json:"fingerprint"`
}

// Datasets handles GET /v1/datasets.
func (a *API) Datasets(w http.ResponseWriter, r *http.Request) {
	out := make([]datasetInfo, 0, len(a.Registry.Datasets))
	for _, d := range a.Registry.Datasets {
		info := datasetInfo{
			Name: d.Name, Description: d.Description, Purpose: d.Purpose, LawfulBasis: d.LawfulBasis,
			Retention: d.Retention.String(), Owner: d.Owner, Expires: "never", SampleRate: d.SampleRate,
			Fingerprint: d.Fingerprint(),
		}
		if !d.Expires.IsZero() {
			info.Expires = d.Expires.Format(time.DateOnly)
		}
		for _, f := range d.Fields {
			info.Fields = append(info.Fields, fieldInfo{Name: f.Name, Type: string(f.Type), Category: int(f.Category), Description: f.Description, Fingerprint: f.Fingerprint()})
		}
		out = append(out, info)
	}
	writeJSON(w, map[string]any{"datasets": out})
}

// Event is the wire form of a stored event.
type Event struct {
	Seq        int64           `json:"seq"`
	ReceivedAt time.Time       `json:"received_at"`
	EventID    string          `json:"event_id,omitempty"`
	SubjectKey string          `json:"subject_key,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// Page is one page of events.
type Page struct {
	Dataset    string  `json:"dataset"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// cursor pins a position within one query, so it cannot be replayed
// against another dataset or range.
type cursor struct {
	Dataset string `json:"d"`
	From    int64  `json:"f"`
	To      int64  `json:"t"`
	After   int64  `json:"s"`
}

// Events handles GET /v1/datasets/{name}/events.
func (a *API) Events(w http.ResponseWriter, r *http.Request) {
	ds := a.Registry.Dataset(r.PathValue("name"))
	if ds == nil {
		problem.New(w, http.StatusNotFound, "unknown-dataset", "no dataset of that name is declared in the registry")
		return
	}
	q, err := parseQuery(r, ds.Name)
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-query", err.Error())
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		a.stream(w, r, q)
		return
	}
	evs, err := a.Store.ListEvents(r.Context(), q)
	if err != nil {
		a.unavailable(w, err)
		return
	}
	page := Page{Dataset: ds.Name, From: q.From.Format(time.RFC3339), To: q.To.Format(time.RFC3339), Events: make([]Event, 0, len(evs))}
	for _, e := range evs {
		page.Events = append(page.Events, wire(e))
	}
	if len(evs) == q.Limit {
		page.NextCursor = encodeCursor(cursor{Dataset: ds.Name, From: q.From.Unix(), To: q.To.Unix(), After: evs[len(evs)-1].Seq})
	}
	writeJSON(w, page)
}

func (a *API) stream(w http.ResponseWriter, r *http.Request, q store.EventQuery) {
	q.Limit = streamChunk
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	started := false
	for {
		evs, err := a.Store.ListEvents(r.Context(), q)
		if err != nil {
			if !started {
				a.unavailable(w, err)
				return
			}
			// Headers are gone; the missing final newline-terminated
			// object tells the client the stream broke.
			a.Log.Error("read: stream aborted", "dataset", q.Dataset, "err", err)
			return
		}
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		for _, e := range evs {
			if err := enc.Encode(wire(e)); err != nil {
				return // client went away
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if len(evs) < q.Limit {
			return
		}
		q.AfterSeq = evs[len(evs)-1].Seq
	}
}

func parseQuery(r *http.Request, dataset string) (store.EventQuery, error) {
	v := r.URL.Query()
	q := store.EventQuery{Dataset: dataset, Limit: DefaultLimit}
	if c := v.Get("cursor"); c != "" {
		cur, err := decodeCursor(c)
		if err != nil {
			return q, errors.New("cursor is not valid: use next_cursor from a previous page unchanged")
		}
		if cur.Dataset != dataset {
			return q, errors.New("cursor belongs to another dataset")
		}
		q.From, q.To, q.AfterSeq = time.Unix(cur.From, 0).UTC(), time.Unix(cur.To, 0).UTC(), cur.After
		if f, t := v.Get("from"), v.Get("to"); (f != "" && !sameTime(f, q.From)) || (t != "" && !sameTime(t, q.To)) {
			return q, errors.New("cursor belongs to another date range")
		}
	} else {
		var err error
		if q.From, err = parseTime(v.Get("from"), "from"); err != nil {
			return q, err
		}
		if q.To, err = parseTime(v.Get("to"), "to"); err != nil {
			return q, err
		}
	}
	if !q.To.After(q.From) {
		return q, errors.New("to must be later than from")
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Errorf("limit must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

func parseTime(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s is required (RFC 3339, e.g. 2026-11-22T00:00:00Z)", name)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time (e.g. 2026-11-22T00:00:00Z)", name)
	}
	return t.UTC().Truncate(time.Second), nil
}

func sameTime(s string, t time.Time) bool {
	p, err := time.Parse(time.RFC3339, s)
	return err == nil && p.Truncate(time.Second).Equal(t)
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	if c.Dataset == "" || c.After < 0 {
		return c, errors.New("incomplete cursor")
	}
	return c, nil
}

func wire(e store.Event) Event {
	return Event{Seq: e.Seq, ReceivedAt: e.ReceivedAt.UTC(), EventID: e.EventID, SubjectKey: e.SubjectKey, Data: e.Data}
}

func (a *API) unavailable(w http.ResponseWriter, err error) {
	a.Log.Error("read: query failed", "err", err)
	w.Header().Set("Retry-After", "5")
	problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
