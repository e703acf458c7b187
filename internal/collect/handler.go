// Package collect is the collection pipeline: it takes events from
// browsers, apps and backends and stores only what the registry declares,
// minimised, once the person's choices and the endpoint's protections have
// been honoured. The order of checks is part of the contract (cheap and
// client-independent first, durable write last).
package collect

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/csrf"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/ratelimit"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
)

// Config tunes the collection endpoint.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes.
	MaxBody int64
	Limits  Limits
	// RatePerSecond and Burst limit requests per client network (/24 or
	// /48); RatePerSecond 0 turns rate limiting off.
	RatePerSecond float64
	Burst         int
	// ReceiveRound is the precision kept of the server's receive time.
	ReceiveRound time.Duration
}

// Defaults for Config's zero values.
const (
	DefaultMaxBody      = 256 << 10
	DefaultReceiveRound = 10 * time.Minute
)

// Collector serves the collection endpoints.
type Collector struct {
	// Registry is read per request: a published version takes effect on
	// the next event.
	Registry *registry.Source
	Keyer    *minimise.Keyer
	UA       *minimise.UAParser
	IPs      clientip.Resolver
	CSRF     *csrf.Guard
	Batcher  *Batcher
	Clock    clock.Clock
	Metrics  *Metrics
	// Erased is the suppression list: events of an erased subject are
	// answered as if stored and dropped ("erased"). Nil checks nothing.
	Erased *erasure.List
	// UnderReview says why a dataset (field "") or field the registry in
	// force does not declare is not collected yet, when an open review
	// proposal holds it; "" otherwise. Asked only on the refusal path.
	UnderReview func(dataset, field string) string
	// GleanDeletion starts the erasure of a Glean client id across every
	// dataset (a deletion-request ping); nil refuses such pings with 503.
	GleanDeletion func(ctx context.Context, appID, clientID string) error
	Log           *slog.Logger
	Config        Config

	limiter *ratelimit.Limiter
}

// Init fills defaults; call once before serving.
func (c *Collector) Init() {
	if c.Config.MaxBody <= 0 {
		c.Config.MaxBody = DefaultMaxBody
	}
	if c.Config.ReceiveRound <= 0 {
		c.Config.ReceiveRound = DefaultReceiveRound
	}
	c.Config.Limits = c.Config.Limits.withDefaults()
	if c.Config.RatePerSecond > 0 {
		c.limiter = ratelimit.New(c.Config.RatePerSecond, c.Config.Burst)
	}
}

// Result is the body of a successful collection.
type Result struct {
	Accepted int            `json:"accepted"`
	Dropped  int            `json:"dropped"`
	Reasons  map[string]int `json:"dropped_reasons,omitempty"`
}

// ServeDataset handles POST /v1/collect/{dataset}.
func (c *Collector) ServeDataset(w http.ResponseWriter, r *http.Request) {
	c.serve(w, r, c.Registry.Current().Dataset(r.PathValue("dataset")))
}

// ServeAliased handles a dataset's path alias, already looked up.
func (c *Collector) ServeAliased(w http.ResponseWriter, r *http.Request, ds *registry.Dataset) {
	c.serve(w, r, ds)
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request, ds *registry.Dataset) {
	start := time.Now()
	// The server's clock dates the request once: events, drops and the
	// day they are counted on.
	now := c.Clock.Now()
	label := "unknown"
	if ds != nil {
		label = ds.Name
	}
	defer func() { c.Metrics.observe(label, time.Since(start)) }()

	if ds == nil {
		if name := r.PathValue("dataset"); name != "" && c.UnderReview != nil {
			if why := c.UnderReview(name, ""); why != "" {
				c.Metrics.rejected(now, label, "unapproved")
				problem.New(w, http.StatusForbidden, "unapproved-dataset", "dataset "+name+" is "+why)
				return
			}
		}
		c.Metrics.rejected(now, label, "unknown_dataset")
		problem.New(w, http.StatusNotFound, "unknown-dataset", "no dataset of that name is declared in the registry")
		return
	}
	if ds.Expired(now) {
		c.Metrics.rejected(now, label, "expired")
		problem.New(w, http.StatusGone, "expired-dataset",
			fmt.Sprintf("dataset %s expired on %s and is no longer collected", ds.Name, ds.Expires.Format(time.DateOnly)))
		return
	}
	c.cors(w, r, ds)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if c.limiter != nil && !c.limiter.Allow(c.IPs.Addr(r)) {
		c.Metrics.rejected(now, label, "rate_limited")
		w.Header().Set("Retry-After", "1")
		problem.New(w, http.StatusTooManyRequests, "rate-limited", "too many requests from your network; retry later")
		return
	}
	body, ok := c.readBody(w, r, now, label)
	if !ok {
		return
	}
	if !jsonContent(r.Header.Get("Content-Type")) {
		c.Metrics.rejected(now, label, "content_type")
		problem.New(w, http.StatusUnsupportedMediaType, "content-type", "send the event as application/json (UTF-8)")
		return
	}
	if typ, detail := c.authorise(r, ds); typ != "" {
		c.Metrics.rejected(now, label, typ)
		status := http.StatusForbidden
		if typ == "write-key" {
			status = http.StatusUnauthorized
		}
		problem.New(w, status, typ, detail)
		return
	}
	if reason := consent.Refusal(r); reason != "" {
		// Counted per event like every other drop, so dropped adds up to
		// its reasons; a body that does not parse counts as one. It is
		// parsed only to be counted: nothing of it is kept.
		n := 1
		if raw, err := Decode(body, c.Config.Limits); err == nil && len(raw) > 0 {
			n = len(raw)
		}
		c.Metrics.dropped(now, label, reason, n)
		w.Header().Set(consent.NotStoredHeader, reason)
		writeJSON(w, http.StatusOK, Result{Dropped: n, Reasons: map[string]int{reason: n}})
		return
	}
	raw, err := Decode(body, c.Config.Limits)
	if err != nil {
		c.Metrics.rejected(now, label, "malformed")
		problem.New(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	events, res, fieldErrs := c.prepare(ds, raw, r, now)
	if len(fieldErrs) > 0 {
		status, typ, reason := c.refusal(ds, fieldErrs)
		c.Metrics.rejected(now, label, reason)
		detail := invalidDetail(fieldErrs)
		if status != http.StatusBadRequest {
			// Not invalid: declared, but not (or no longer) approved for collection.
			detail = "not collected: " + strings.TrimPrefix(detail, "invalid event: ")
		}
		problem.Write(w, problem.Details{
			Type: "urn:steward:problem:" + typ, Status: status,
			Detail: detail, Errors: fieldErrs,
		})
		return
	}
	if len(events) > 0 {
		stored, err := c.Batcher.Write(r.Context(), events)
		if err != nil {
			c.Metrics.rejected(now, label, "unavailable")
			c.Log.Error("collect: write failed", "dataset", ds.Name, "events", len(events), "err", err)
			w.Header().Set("Retry-After", "5")
			problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; nothing was stored, retry later")
			return
		}
		for _, ok := range stored {
			if ok {
				res.Accepted++
			} else {
				res.drop("duplicate")
			}
		}
	}
	c.Metrics.accepted(now, label, res.Accepted)
	for reason, n := range res.Reasons {
		c.Metrics.dropped(now, label, reason, n)
	}
	writeJSON(w, http.StatusOK, res)
}

// refusal names the fields an open review holds and chooses the answer:
// 403 when every problem is a field under review, 410 when every problem
// is a field past its expiry (or under review), so a client can stop
// sending exactly those; 400 otherwise.
func (c *Collector) refusal(ds *registry.Dataset, errs []FieldError) (int, string, string) {
	unapproved, expired := 0, 0
	for i, e := range errs {
		switch {
		case e.Problem == ProblemUnknown && c.UnderReview != nil && !strings.ContainsAny(e.Path, ".["):
			if why := c.UnderReview(ds.Name, e.Path); why != "" {
				errs[i].Problem = why
				unapproved++
			}
		case strings.HasPrefix(e.Problem, problemExpired):
			expired++
		}
	}
	switch {
	case unapproved == len(errs):
		return http.StatusForbidden, "unapproved-field", "unapproved"
	case unapproved+expired == len(errs):
		return http.StatusGone, "expired-field", "expired_field"
	}
	return http.StatusBadRequest, "invalid", "invalid"
}

func (res *Result) drop(reason string) {
	if res.Reasons == nil {
		res.Reasons = map[string]int{}
	}
	res.Reasons[reason]++
	res.Dropped++
}

func (c *Collector) readBody(w http.ResponseWriter, r *http.Request, now time.Time, label string) ([]byte, bool) {
	tooLarge := func() ([]byte, bool) {
		c.Metrics.rejected(now, label, "too_large")
		problem.New(w, http.StatusRequestEntityTooLarge, "too-large",
			fmt.Sprintf("the body is larger than %d bytes; send fewer events per request", c.Config.MaxBody))
		return nil, false
	}
	if r.ContentLength > c.Config.MaxBody {
		return tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.Config.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge()
		}
		c.Metrics.rejected(now, label, "unreadable")
		problem.New(w, http.StatusBadRequest, "unreadable", "the request body could not be read")
		return nil, false
	}
	return body, true
}

func jsonContent(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// authorise applies the dataset's browser or server protection; it returns
// a problem type and detail when the request is refused.
func (c *Collector) authorise(r *http.Request, ds *registry.Dataset) (string, string) {
	if ds.Access.ServerToServer {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == "" {
			return "write-key", "this dataset is written by servers: send its write key as Authorization: Bearer <key>"
		}
		sum := sha256.Sum256([]byte(key))
		want, _ := hex.DecodeString(ds.Access.WriteKeySHA256)
		if subtle.ConstantTimeCompare(sum[:], want) != 1 {
			return "write-key", "the write key is not valid for this dataset"
		}
		return "", ""
	}
	if o := r.Header.Get("Origin"); o != "" && slices.Contains(ds.Access.Origins, o) {
		// A cross-origin JSON POST needs a CORS preflight that only listed
		// origins pass, which protects it as the CSRF token would.
		return "", ""
	}
	if !c.CSRF.CheckHeader(r) {
		return "csrf", "missing or invalid CSRF token: GET /v1/csrf and send its token in the X-CSRF-Token header"
	}
	return "", ""
}

func (c *Collector) cors(w http.ResponseWriter, r *http.Request, ds *registry.Dataset) {
	o := r.Header.Get("Origin")
	if o == "" || !slices.Contains(ds.Access.Origins, o) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Expose-Headers", consent.NotStoredHeader)
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
}

// prepare validates every event, then minimises and samples the valid ones.
// Nothing is prepared for storage unless every event is valid.
func (c *Collector) prepare(ds *registry.Dataset, raw []RawEvent, r *http.Request, now time.Time) ([]store.Event, Result, []FieldError) {
	var res Result
	var errs []FieldError
	values := make([]map[string]any, len(raw))
	expired := expiredFields(ds, now)
	for i, ev := range raw {
		v, fe := Validate(ds, ev, i)
		values[i] = v
		if expired != nil {
			fe = expiredErrors(expired, ev, i, fe)
		}
		errs = append(errs, fe...)
	}
	if len(errs) > 0 {
		return nil, res, errs
	}
	received := minimise.RoundTime(now, c.Config.ReceiveRound)
	out := make([]store.Event, 0, len(raw))
	for i, ev := range raw {
		data, key := c.minimiseEvent(ds, values[i], r, now)
		if c.Erased != nil && c.Erased.Suppressed(ds, key, now) {
			// Before sampling, so each such event is counted as erased.
			res.drop("erased")
			continue
		}
		if !c.sampled(ds, key, ev.ID, now, i) {
			res.drop("sampled")
			continue
		}
		b, err := appendJSON(make([]byte, 0, 512), data)
		if err != nil {
			// Validated values always encode; this guards a future type.
			errs = append(errs, FieldError{Event: i, Path: "", Problem: "could not be encoded"})
			continue
		}
		out = append(out, store.Event{Dataset: ds.Name, ReceivedAt: received, EventID: ev.ID, SubjectKey: key, Data: b})
	}
	return out, res, errs
}

// minimiseEvent builds the stored form of one event: request- and
// server-sourced fields filled in, every value transformed as declared.
func (c *Collector) minimiseEvent(ds *registry.Dataset, vals map[string]any, r *http.Request, now time.Time) (map[string]any, string) {
	data := make(map[string]any, len(ds.Fields))
	key, subjectField := "", ""
	if ds.Subject != nil {
		subjectField = ds.Subject.Field
		if v, ok := vals[subjectField]; ok && v != nil {
			key = subject.Key(c.Keyer, subject.Of(ds), subject.Text(v))
		}
	}
	for _, f := range ds.Fields {
		var v any
		switch f.Source {
		case registry.SourceRequest:
			switch f.Type {
			case registry.TypeIP:
				if a := c.IPs.Addr(r); a.IsValid() {
					v = a
				}
			case registry.TypeUserAgent:
				// What the header says wins; the client's own report
				// counts only when the header gives nothing recognisable
				// (none, or a backend forwarding the event).
				ua := c.UA.Coarse(r.UserAgent())
				if sent, ok := vals[f.Name].(minimise.UserAgent); ok && ua.Browser == minimise.Other && ua.OS == minimise.Other {
					ua = sent
				}
				v = ua
			}
		case registry.SourceServer:
			v = now
		default:
			v = vals[f.Name]
		}
		if v == nil || f.Minimise.Drop {
			continue
		}
		if f.Minimise.Hash && f.Name == subjectField {
			// The hashed subject field is its subject key: hashed once.
			data[f.Name] = key
			continue
		}
		data[f.Name] = c.transform(ds, f, v)
	}
	return data, key
}

func (c *Collector) transform(ds *registry.Dataset, f *registry.Field, v any) any {
	m := f.Minimise
	switch f.Type {
	case registry.TypeIP:
		ip, ok := v.(netip.Addr) // from the request
		if s, isStr := v.(string); isStr {
			var err error
			ip, err = minimise.ParseClientIP(s)
			ok = err == nil
		}
		if !ok {
			return nil
		}
		v = minimise.TruncateIP(ip, m.TruncateV4, m.TruncateV6).String()
	case registry.TypeUserAgent:
		if _, ok := v.(minimise.UserAgent); ok {
			return v // already coarse (and boxed once)
		}
		s, _ := v.(string)
		return c.UA.Coarse(s)
	case registry.TypeTimestamp:
		if t, ok := v.(time.Time); ok {
			v = minimise.RoundTime(t, m.Round).Format(time.RFC3339)
		}
	}
	if m.Hash {
		// Hashed as an identifier, so it matches the subject key of the
		// same person.
		return subject.Key(c.Keyer, subject.ForField(ds, f), subject.Text(v))
	}
	return v
}

// sampled decides deterministically by subject, so a sampled-in person's
// events are all kept and a sampled-out person's all dropped. An event
// with neither subject nor id is decided by the receive time (from the
// injected clock, so tests are repeatable) and its place in the request,
// so the events of one request are decided independently.
func (c *Collector) sampled(ds *registry.Dataset, subjectKey, eventID string, now time.Time, i int) bool {
	if ds.SampleRate >= 1 {
		return true
	}
	key := subjectKey
	if key == "" {
		key = eventID
	}
	if key == "" {
		key = strconv.FormatInt(now.UnixNano(), 10) + "\x00" + strconv.Itoa(i)
	}
	return minimise.Sample(ds.Name+"\x00"+key, ds.SampleRate)
}

func invalidDetail(errs []FieldError) string {
	parts := make([]string, 0, min(len(errs), 5))
	for i, e := range errs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-5))
			break
		}
		parts = append(parts, e.String())
	}
	return "invalid event: " + strings.Join(parts, "; ")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
