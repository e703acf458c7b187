// Package auditapi lets auditors read the access log: who read whose data,
// when, for what purpose, and what was refused. Reading the log is itself
// recorded in it.
package auditapi

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/collect"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
)

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// LogDataset names the access log itself in its own entries; registry
// dataset names cannot contain "@", so it never collides with one.
const LogDataset = "@access_log"

// API serves GET /v1/access-log.
type API struct {
	Store    store.AccessLog
	Registry *registry.Source
	Keyer    *minimise.Keyer
	Access   accesslog.Recorder
	IPs      clientip.Resolver
	Clock    clock.Clock
	Log      *slog.Logger
}

// Entry is the wire form of an access-log entry.
type Entry struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	AuthMethod   string    `json:"auth_method"`
	CredentialID string    `json:"credential_id"`
	Role         string    `json:"role"`
	Purpose      string    `json:"purpose"`
	Dataset      string    `json:"dataset"`
	Query        string    `json:"query"`
	Records      int64     `json:"records"`
	Subjects     int64     `json:"subjects"`
	SubjectKeys  []string  `json:"subject_keys"`
	ClientNet    string    `json:"client_net"`
	Decision     string    `json:"decision"`
	Reason       string    `json:"reason"`
	PrevHash     string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

// Page is one page of entries, oldest first.
type Page struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor,omitempty"`
	// AccessEntry is the entry that recorded this read of the log.
	AccessEntry int64 `json:"access_entry"`
}

// List handles GET /v1/access-log?actor=&subject=&subject_key=&dataset=
// &from=&to=&limit=&cursor=. subject is an identifier as collected, hashed
// here as collection hashes it (with dataset= by that dataset's subject
// normalisation, without it as its shape allows) and also as given;
// subject_key is an already keyed one.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	q, otherKeys, err := a.parse(r.URL.Query())
	if err != nil {
		problem.New(w, http.StatusBadRequest, "bad-query", err.Error())
		return
	}
	entries, err := a.list(r.Context(), q, otherKeys)
	if err != nil {
		a.Log.Error("access log: query failed", "err", err)
		w.Header().Set("Retry-After", "5")
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return
	}
	p, _ := auth.FromContext(r.Context())
	self := accesslog.ForRequest(r, p, a.IPs, a.Clock.Now())
	self.Purpose, self.Dataset, self.Query = "audit", LogDataset, describe(q)
	self.Records, self.Decision, self.Reason = int64(len(entries)), accesslog.Allowed, "auditor read of the access log"
	if err := a.Access.Append(r.Context(), self); err != nil {
		a.Log.Error("access log: append failed; nothing was sent", "err", err)
		w.Header().Set("Retry-After", "5")
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "the access log is unavailable; retry later")
		return
	}
	page := Page{Entries: make([]Entry, 0, len(entries)), AccessEntry: self.Seq}
	for _, e := range entries {
		page.Entries = append(page.Entries, wire(e))
	}
	if len(entries) == q.Limit {
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(entries[len(entries)-1].Seq, 10)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(page)
}

// parse reads the filters. A subject given as an identifier may have
// several keys (see subject.Keys): the first is in the query, the others
// are returned to be searched as well.
func (a *API) parse(v url.Values) (q store.AccessQuery, otherKeys []string, err error) {
	q = store.AccessQuery{Actor: v.Get("actor"), Dataset: v.Get("dataset"), Limit: DefaultLimit}
	for k := range v {
		switch k {
		case "actor", "subject", "subject_key", "dataset", "from", "to", "limit", "cursor":
		default:
			return q, nil, fmt.Errorf("unknown parameter %q (known: actor, subject, subject_key, dataset, from, to, limit, cursor)", k)
		}
	}
	if len(q.Actor) > 256 || len(q.Dataset) > 128 {
		return q, nil, errors.New("actor or dataset is too long")
	}
	switch s, k := v.Get("subject"), v.Get("subject_key"); {
	case s != "" && k != "":
		return q, nil, errors.New("give subject (an identifier) or subject_key (a keyed hash), not both")
	case k != "":
		q.SubjectKey = k
	case s != "":
		keys, err := a.subjectKeys(s, q.Dataset)
		if err != nil {
			return q, nil, err
		}
		q.SubjectKey, otherKeys = keys[0], keys[1:]
	}
	if q.From, err = optTime(v.Get("from"), "from"); err != nil {
		return q, nil, err
	}
	if q.To, err = optTime(v.Get("to"), "to"); err != nil {
		return q, nil, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, nil, errors.New("to must be later than from")
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return q, nil, fmt.Errorf("limit must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	if c := v.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.ParseInt(string(b), 10, 64)
		if err != nil || err2 != nil || n < 0 {
			return q, nil, errors.New("cursor is not valid: use next_cursor from a previous page unchanged")
		}
		q.AfterSeq = n
	}
	return q, otherKeys, nil
}

// subjectKeys hashes an identifier the way collection did. With a dataset
// its subject's normalisation applies; without one (the dataset that
// stored it is not known), each its shape allows (subject.AnyKeys). Either
// way the identifier as given is searched too, for entries from before
// normalisation.
func (a *API) subjectKeys(ident, dataset string) ([]string, error) {
	if dataset == "" {
		keys := subject.AnyKeys(a.Keyer, ident)
		if len(keys) == 0 {
			return nil, errors.New("subject is blank")
		}
		return keys, nil
	}
	ds := a.Registry.Current().Dataset(dataset)
	if ds == nil {
		return nil, fmt.Errorf("dataset %q is not in the registry", dataset)
	}
	return collect.SubjectKeys(a.Keyer, ds, ident)
}

// list runs the query, and again for each other key of its subject,
// merging in Seq order without repeats (an entry may name several of the
// keys), so a page is the first q.Limit matches and the cursor still works.
func (a *API) list(ctx context.Context, q store.AccessQuery, otherKeys []string) ([]store.AccessEntry, error) {
	entries, err := a.Store.ListAccess(ctx, q)
	if err != nil || len(otherKeys) == 0 {
		return entries, err
	}
	for _, k := range otherKeys {
		o := q
		o.SubjectKey = k
		more, err := a.Store.ListAccess(ctx, o)
		if err != nil {
			return nil, err
		}
		entries = append(entries, more...)
	}
	slices.SortFunc(entries, func(x, y store.AccessEntry) int { return cmp.Compare(x.Seq, y.Seq) })
	entries = slices.CompactFunc(entries, func(x, y store.AccessEntry) bool { return x.Seq == y.Seq })
	return entries[:min(len(entries), q.Limit)], nil
}

func optTime(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time (e.g. 2026-11-22T00:00:00Z)", name)
	}
	return t.UTC(), nil
}

// describe records the filters; a subject appears only as its key.
func describe(q store.AccessQuery) string {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "dataset": q.Dataset, "subject_key": q.SubjectKey} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339))
	}
	if q.AfterSeq > 0 {
		v.Set("after", strconv.FormatInt(q.AfterSeq, 10))
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	return strings.TrimSpace("access-log " + v.Encode())
}

func wire(e store.AccessEntry) Entry {
	keys := e.SubjectKeys
	if keys == nil {
		keys = []string{}
	}
	return Entry{
		Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, AuthMethod: e.AuthMethod, CredentialID: e.CredentialID,
		Role: e.Role, Purpose: e.Purpose, Dataset: e.Dataset, Query: e.Query, Records: e.Records,
		Subjects: e.Subjects, SubjectKeys: keys, ClientNet: e.ClientNet, Decision: e.Decision, Reason: e.Reason,
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash),
	}
}
