// Package readapi lets authorised staff read collected events back by date
// range, as JSON pages with a cursor or as one NDJSON stream, and look up
// one subject's events. Every read names its purpose, is checked against
// the read policy, returns only the fields the policy grants, and is in the
// access log before the first record leaves.
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

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/policy"
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
	Registry *registry.Source
	Store    store.Events
	Policy   *policy.Source
	Keyer    *minimise.Keyer
	Access   accesslog.Recorder
	IPs      clientip.Resolver
	Clock    clock.Clock
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
	// YourPurposes lists the purposes for which the caller's role may read
	// the dataset (empty: it may not read it).
	YourPurposes []string `json:"your_purposes"`
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
	p, _ := auth.FromContext(r.Context())
	reg, pol := a.Registry.Current(), a.Policy.Current()
	out := make([]datasetInfo, 0, len(reg.Datasets))
	for _, d := range reg.Datasets {
		info := datasetInfo{
			Name: d.Name, Description: d.Description, Purpose: d.Purpose, LawfulBasis: d.LawfulBasis,
			Retention: registry.FormatDuration(d.Retention), Owner: d.Owner, Expires: "never", SampleRate: d.SampleRate,
			Fingerprint: d.Fingerprint(), YourPurposes: pol.Purposes(d.Name, p.Role),
		}
		if info.YourPurposes == nil {
			info.YourPurposes = []string{}
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
	Dataset string `json:"dataset"`
	Purpose string `json:"purpose"`
	From    string `json:"from"`
	To      string `json:"to"`
	// Withheld names the fields the caller's role may not see; they are
	// missing from every event.
	Withheld   []string `json:"withheld"`
	Events     []Event  `json:"events"`
	NextCursor string   `json:"next_cursor,omitempty"`
	// AccessEntry is the access-log entry that recorded this read.
	AccessEntry int64 `json:"access_entry"`
}

// cursor pins a position within one query, so it cannot be replayed
// against another dataset or range.
type cursor struct {
	Dataset string `json:"d"`
	From    int64  `json:"f"`
	To      int64  `json:"t"`
	After   int64  `json:"s"`
	// Subject is the subject key of a lookup ("" for a range read).
	Subject string `json:"k,omitempty"`
}

// Events handles GET /v1/datasets/{name}/events.
func (a *API) Events(w http.ResponseWriter, r *http.Request) {
	ds := a.Registry.Current().Dataset(r.PathValue("name"))
	if ds == nil {
		problem.New(w, http.StatusNotFound, "unknown-dataset", "no dataset of that name is declared in the registry")
		return
	}
	purpose, err := purposeOf(r, "")
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-purpose", err.Error())
		return
	}
	v := r.URL.Query()
	q, err := parseQuery(ds.Name, v.Get("from"), v.Get("to"), v.Get("limit"), v.Get("cursor"), "")
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-query", err.Error())
		return
	}
	stream := strings.Contains(r.Header.Get("Accept"), "application/x-ndjson")
	read := a.begin(w, r, ds, purpose, q, stream, false)
	if read == nil {
		return
	}
	if stream {
		a.stream(w, r, read)
		return
	}
	a.page(w, r, read)
}

// read is one allowed read: what was asked and what the policy lets
// through.
type read struct {
	ds       *registry.Dataset
	purpose  string
	q        store.EventQuery
	withheld []string
	entry    func() *accesslog.Entry
	// otherKeys are more keys of a lookup's subject (its identifier as
	// given, see subject.Keys), read along with q.SubjectKey.
	otherKeys []string
}

// begin checks the policy and, when it refuses, records the refusal and
// answers 403. It returns nil when the request has been answered.
func (a *API) begin(w http.ResponseWriter, r *http.Request, ds *registry.Dataset, purpose string, q store.EventQuery, stream, lookup bool) *read {
	p, _ := auth.FromContext(r.Context())
	d := a.Policy.Current().Decide(ds.Name, p.Role, purpose)
	if d.Allowed && lookup && !d.Lookup {
		d = policy.Decision{Reason: fmt.Sprintf("role %s may read %s for %s but not look up one subject", p.Role, ds.Name, purpose)}
	}
	desc := describe(r, q, stream, lookup)
	rd := &read{ds: ds, purpose: purpose, q: q, withheld: withheld(ds, d)}
	rd.entry = func() *accesslog.Entry {
		e := accesslog.ForRequest(r, p, a.IPs, a.Clock.Now())
		e.Purpose, e.Dataset, e.Query = purpose, ds.Name, desc
		return e
	}
	if d.Allowed {
		return rd
	}
	e := rd.entry()
	e.Decision, e.Reason = accesslog.Denied, d.Reason
	if q.SubjectKey != "" {
		// A refused lookup still names whom it was after.
		e.SubjectKeys = []string{q.SubjectKey}
	}
	if err := a.Access.Append(r.Context(), e); err != nil {
		a.logUnavailable(w, err)
		return nil
	}
	problem.New(w, http.StatusForbidden, "outside-policy", d.Reason)
	return nil
}

// record appends the entry for records about to be sent; only when it is
// durable may they go.
func (a *API) record(r *http.Request, rd *read, evs []store.Event, part int) (*accesslog.Entry, error) {
	e := rd.entry()
	e.Decision, e.Reason = accesslog.Allowed, "within policy"
	if part > 0 {
		e.Query += fmt.Sprintf(" part=%d", part)
	}
	e.Records = int64(len(evs))
	seen := make(map[string]bool, len(evs))
	for _, ev := range evs {
		if ev.SubjectKey != "" && !seen[ev.SubjectKey] {
			seen[ev.SubjectKey] = true
			e.SubjectKeys = append(e.SubjectKeys, ev.SubjectKey)
		}
	}
	if rd.q.SubjectKey != "" && !seen[rd.q.SubjectKey] {
		// A lookup that found nothing still touched that subject.
		e.SubjectKeys = append(e.SubjectKeys, rd.q.SubjectKey)
	}
	e.Subjects = int64(len(e.SubjectKeys))
	return e, a.Access.Append(r.Context(), e)
}

func (a *API) page(w http.ResponseWriter, r *http.Request, rd *read) {
	evs, err := a.list(r.Context(), rd)
	if err != nil {
		a.unavailable(w, err)
		return
	}
	page := Page{
		Dataset: rd.ds.Name, Purpose: rd.purpose, From: rd.q.From.Format(time.RFC3339), To: rd.q.To.Format(time.RFC3339),
		Withheld: rd.withheld, Events: make([]Event, 0, len(evs)),
	}
	for _, e := range evs {
		page.Events = append(page.Events, wire(e, rd.withheld))
	}
	if len(evs) == rd.q.Limit {
		page.NextCursor = encodeCursor(cursor{Dataset: rd.ds.Name, From: rd.q.From.Unix(), To: rd.q.To.Unix(), After: evs[len(evs)-1].Seq, Subject: rd.q.SubjectKey})
	}
	entry, err := a.record(r, rd, evs, 0)
	if err != nil {
		a.logUnavailable(w, err)
		return
	}
	page.AccessEntry = entry.Seq
	writeJSON(w, page)
}

// stream sends the whole range chunk by chunk; each chunk is recorded in
// the access log before it is written.
func (a *API) stream(w http.ResponseWriter, r *http.Request, rd *read) {
	q := rd.q
	q.Limit = streamChunk
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	started := false
	for part := 1; ; part++ {
		evs, err := a.Store.ListEvents(r.Context(), q)
		if err == nil {
			_, err = a.record(r, rd, evs, part)
		}
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
			if len(rd.withheld) > 0 {
				w.Header().Set("Steward-Withheld", strings.Join(rd.withheld, ","))
			}
			w.WriteHeader(http.StatusOK)
			started = true
		}
		for _, e := range evs {
			if err := enc.Encode(wire(e, rd.withheld)); err != nil {
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

// parseQuery checks a range read: either from and to, or a cursor from an
// earlier page of the same query (from and to may be repeated with it).
func parseQuery(dataset, from, to, limit, cur, subject string) (store.EventQuery, error) {
	q := store.EventQuery{Dataset: dataset, Limit: DefaultLimit, SubjectKey: subject}
	if cur != "" {
		c, err := decodeCursor(cur)
		if err != nil {
			return q, errors.New("cursor is not valid: use next_cursor from a previous page unchanged")
		}
		if c.Dataset != dataset {
			return q, errors.New("cursor belongs to another dataset")
		}
		if c.Subject != subject {
			return q, errors.New("cursor belongs to another subject")
		}
		q.From, q.To, q.AfterSeq = time.Unix(c.From, 0).UTC(), time.Unix(c.To, 0).UTC(), c.After
		if (from != "" && !sameTime(from, q.From)) || (to != "" && !sameTime(to, q.To)) {
			return q, errors.New("cursor belongs to another date range")
		}
	} else {
		var err error
		if q.From, err = parseTime(from, "from"); err != nil {
			return q, err
		}
		if q.To, err = parseTime(to, "to"); err != nil {
			return q, err
		}
	}
	if !q.To.After(q.From) {
		return q, errors.New("to must be later than from")
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
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

// wire is the form sent to the reader, without the withheld fields.
func wire(e store.Event, withheld []string) Event {
	out := Event{Seq: e.Seq, ReceivedAt: e.ReceivedAt.UTC(), EventID: e.EventID, SubjectKey: e.SubjectKey, Data: e.Data}
	if len(withheld) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(e.Data, &m) == nil {
			for _, f := range withheld {
				delete(m, f)
			}
			out.Data, _ = json.Marshal(m)
		} else {
			// Stored data is always an object; if not, send nothing of it
			// rather than risk sending a withheld field.
			out.Data = json.RawMessage("{}")
		}
	}
	return out
}

// logUnavailable answers when the access log cannot take the entry: no
// record leaves unrecorded.
func (a *API) logUnavailable(w http.ResponseWriter, err error) {
	a.Log.Error("read: access log append failed; nothing was sent", "err", err)
	w.Header().Set("Retry-After", "5")
	problem.New(w, http.StatusServiceUnavailable, "unavailable", "the access log is unavailable, so no personal data can be read; retry later")
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
