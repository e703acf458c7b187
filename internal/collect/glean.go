package collect

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// MaxGleanPing is the largest decompressed Glean ping accepted: the Glean
// SDKs send at most 1 MB compressed, and a ping that inflates past this is
// a gzip bomb, refused before it is read further.
const MaxGleanPing = 10 << 20

// GleanResult is the body of an answered Glean submission.
type GleanResult struct {
	Stored bool `json:"stored"`
	// Reason says why a ping was deliberately not stored (duplicate,
	// opt-out, sampled, erased).
	Reason string `json:"reason,omitempty"`
	// DroppedMetrics counts the metrics not stored, by metric id.
	DroppedMetrics map[string]int `json:"dropped_metrics,omitempty"`
}

// ServeGlean handles POST /submit/{app_id}/{ping}/{schema_version}/{doc_id}
// as Glean's upload contract asks: 2xx when stored or deliberately not
// stored, 4xx only for a ping that can never succeed (Glean then deletes
// it), 5xx when the client should retry. See docs/glean.md.
func (c *Collector) ServeGlean(w http.ResponseWriter, r *http.Request) {
	now := c.Clock.Now()
	appID, ping, version, docID := r.PathValue("app_id"), r.PathValue("ping"), r.PathValue("schema_version"), r.PathValue("doc_id")
	label := "glean"
	never := func(status int, typ, detail string) {
		c.Metrics.rejected(now, label, typ)
		problem.New(w, status, typ, detail)
	}
	switch {
	case !registry.GleanAppIDRE.MatchString(appID):
		never(http.StatusBadRequest, "glean-app-id", "the application id is letters, digits, '.', '-' and '_' (at most 100)")
		return
	case !registry.GleanPingRE.MatchString(ping):
		never(http.StatusBadRequest, "glean-ping", "the ping name is kebab-case, at most 30 characters")
		return
	case !isDigits(version):
		never(http.StatusBadRequest, "glean-schema-version", "the schema version is a whole number")
		return
	}
	id, ok := canonicalUUID(docID)
	if !ok {
		never(http.StatusBadRequest, "glean-doc-id", "the document id must be a UUID like 123e4567-e89b-12d3-a456-426614174000")
		return
	}
	reg := c.Registry.Current()
	if ping == "deletion-request" {
		c.gleanDeletion(w, r, reg, appID)
		return
	}
	ds := reg.DatasetByGlean(appID, ping)
	if ds == nil {
		name := glean.DatasetName(appID, ping)
		if c.UnderReview != nil {
			if why := c.UnderReview(name, ""); why != "" {
				never(http.StatusForbidden, "unapproved-dataset", "ping "+ping+" of "+appID+" (dataset "+name+") is "+why)
				return
			}
		}
		never(http.StatusNotFound, "unknown-ping", "no dataset in the registry receives ping "+ping+" of "+appID)
		return
	}
	label = ds.Name
	c.cors(w, r, ds)
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, Date, X-Telemetry-Agent, X-Debug-ID, X-Source-Tags")
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if ds.Expired(now) {
		never(http.StatusGone, "expired-dataset", fmt.Sprintf("dataset %s expired and is no longer collected", ds.Name))
		return
	}
	if c.limiter != nil && !c.limiter.Allow(c.IPs.Addr(r)) {
		// Glean deletes a ping on any 4xx: a busy server asks it to retry.
		c.Metrics.rejected(now, label, "rate_limited")
		w.Header().Set("Retry-After", "5")
		problem.New(w, http.StatusServiceUnavailable, "rate-limited", "too many pings from your network; retry later")
		return
	}
	body, status, err := c.gleanBody(r)
	if err != nil {
		never(status, "glean-body", err.Error())
		return
	}
	if reason := consent.Refusal(r); reason != "" {
		c.Metrics.dropped(now, label, reason, 1)
		w.Header().Set(consent.NotStoredHeader, reason)
		writeJSON(w, http.StatusOK, GleanResult{Reason: reason})
		return
	}
	p, err := glean.Decode(ds, body)
	if err != nil {
		never(http.StatusBadRequest, "malformed", err.Error())
		return
	}
	ev := RawEvent{ID: id, Fields: p.Fields}
	// A value Glean sent that the registry refuses drops that metric, not
	// the ping: a Glean client cannot be told about single metrics.
	var events []store.Event
	var res Result
	for range 4 {
		var errs []FieldError
		events, res, errs = c.prepare(ds, []RawEvent{ev}, r, now)
		if len(errs) == 0 {
			break
		}
		for _, e := range errs {
			top := e.Path
			if i := strings.IndexAny(top, ".["); i >= 0 {
				top = top[:i]
			}
			if _, ok := ev.Fields[top]; !ok {
				continue
			}
			delete(ev.Fields, top)
			name := top
			if f := ds.Field(top); f != nil && f.Glean != nil {
				name = f.Glean.Metric
			}
			p.Dropped[name]++
		}
	}
	out := GleanResult{DroppedMetrics: p.Dropped}
	for metric, n := range p.Dropped {
		c.Metrics.droppedMetric(ds.Name, metric, n)
	}
	for reason := range res.Reasons {
		out.Reason = reason
	}
	if len(events) > 0 {
		stored, err := c.Batcher.Write(r.Context(), events)
		if err != nil {
			c.Metrics.rejected(now, label, "unavailable")
			c.Log.Error("collect: glean write failed", "dataset", ds.Name, "err", err)
			w.Header().Set("Retry-After", "5")
			problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; nothing was stored, retry later")
			return
		}
		out.Stored = stored[0]
		if !out.Stored {
			out.Reason = "duplicate"
		}
	}
	if out.Stored {
		c.Metrics.accepted(now, label, 1)
	} else if out.Reason != "" {
		c.Metrics.dropped(now, label, out.Reason, 1)
	}
	writeJSON(w, http.StatusOK, out)
}

// gleanBody reads the body, inflating it when gzip-encoded, within bounds.
func (c *Collector) gleanBody(r *http.Request) ([]byte, int, error) {
	if r.ContentLength > c.Config.MaxBody*4 {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the ping is larger than %d bytes", c.Config.MaxBody*4)
	}
	// Glean allows 1 MB compressed; collection's own limit is for events.
	limit := max(c.Config.MaxBody*4, 1<<20)
	var src io.Reader = io.LimitReader(r.Body, limit+1)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, errors.New("the body is not valid gzip")
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content encoding %q is not supported (send gzip or none)", enc)
	}
	body, err := io.ReadAll(io.LimitReader(src, MaxGleanPing+1))
	switch {
	case err != nil:
		return nil, http.StatusBadRequest, errors.New("the body could not be read (a gzip body that is cut short or corrupt)")
	case len(body) > MaxGleanPing:
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the ping inflates past %d bytes and is refused", MaxGleanPing)
	}
	return body, 0, nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	_, err := strconv.Atoi(s)
	return err == nil && strings.Trim(s, "0123456789") == ""
}

// gleanDeletion starts the erasure a deletion-request ping asks for. The
// ping's own metrics are not stored: the request is what is kept.
func (c *Collector) gleanDeletion(w http.ResponseWriter, r *http.Request, reg *registry.Registry, appID string) {
	now := c.Clock.Now()
	var app *registry.Dataset
	for _, d := range reg.Datasets {
		if app == nil && d.Glean != nil && registry.GleanKey(d.Glean.AppID, "") == registry.GleanKey(appID, "") {
			app = d
		}
	}
	if app == nil {
		c.Metrics.rejected(now, "glean", "unknown-app")
		problem.New(w, http.StatusNotFound, "unknown-ping", "no dataset in the registry receives pings of "+appID)
		return
	}
	// Browsers may send it from the origins the app's datasets allow.
	c.cors(w, r, app)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, status, err := c.gleanBody(r)
	if err != nil {
		c.Metrics.rejected(now, "glean", "glean-body")
		problem.New(w, status, "glean-body", err.Error())
		return
	}
	p, err := glean.Decode(&registry.Dataset{}, body)
	if err != nil {
		c.Metrics.rejected(now, "glean", "malformed")
		problem.New(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	id, ok := canonicalUUID(p.ClientID)
	if !ok {
		c.Metrics.rejected(now, "glean", "malformed")
		problem.New(w, http.StatusBadRequest, "malformed", "a deletion-request ping carries client_info.client_id, a UUID")
		return
	}
	if c.GleanDeletion == nil {
		w.Header().Set("Retry-After", "60")
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "data subject requests are not available; retry later")
		return
	}
	if err := c.GleanDeletion(r.Context(), appID, id); err != nil {
		c.Log.Error("collect: glean deletion request failed", "err", err)
		w.Header().Set("Retry-After", "5")
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "the erasure could not be recorded; retry later")
		return
	}
	writeJSON(w, http.StatusOK, GleanResult{Stored: true, Reason: "erasure started"})
}
