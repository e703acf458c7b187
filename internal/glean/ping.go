package glean

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
)

// Ping is a Glean ping turned into the fields of its dataset.
type Ping struct {
	// Fields are the dataset's field values, as collect.RawEvent holds
	// them (json.Number for numbers).
	Fields map[string]any
	// ClientID is client_info.client_id, or "".
	ClientID string
	// Dropped counts the metrics not stored, by metric id: not in the
	// approved registry, of another type than declared, or expired.
	Dropped map[string]int
}

// ErrNotObject: the body is not a JSON object.
var ErrNotObject = errors.New("a Glean ping is a JSON object with ping_info, client_info, metrics and events")

// clientInfo are client_info's members steward may keep, as field names.
var clientInfo = []string{"app_build", "app_display_version", "app_channel", "architecture", "os", "os_version", "locale", "telemetry_sdk_build"}

// Decode reads a ping body and keeps what ds declares.
func Decode(ds *registry.Dataset, body []byte) (*Ping, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("the ping is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the ping has data after its JSON object")
	}
	root, ok := top.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	p := &Ping{Fields: map[string]any{}, Dropped: map[string]int{}}
	pi, _ := root["ping_info"].(map[string]any)
	ci, _ := root["client_info"].(map[string]any)
	put := func(field string, v any) {
		if v != nil && ds.Field(field) != nil {
			p.Fields[field] = v
		}
	}
	if pi != nil {
		put("ping_seq", pi["seq"])
		put("ping_start_time", datetime(pi["start_time"]))
		put("ping_end_time", datetime(pi["end_time"]))
		put("ping_reason", pi["reason"])
	}
	major := 0
	if ci != nil {
		if id, ok := ci["client_id"].(string); ok {
			p.ClientID = id
			put("client_id", id)
		}
		for _, k := range clientInfo {
			put(k, ci[k])
		}
		put("first_run_date", datetime(ci["first_run_date"]))
		if v, ok := ci["app_display_version"].(string); ok {
			major, _ = strconv.Atoi(strings.SplitN(v, ".", 2)[0])
		}
	}
	keep := func(id, typ string) *registry.Field {
		f := ds.FieldByMetric(id)
		switch {
		case f == nil || f.Glean.Type != typ:
			p.Dropped[id]++
			return nil
		case f.Glean.ExpiresVersion > 0 && major >= f.Glean.ExpiresVersion:
			p.Dropped[id]++
			return nil
		}
		return f
	}
	if ms, ok := root["metrics"].(map[string]any); ok {
		for _, typ := range sortedKeys(ms) {
			byID, ok := ms[typ].(map[string]any)
			if !ok {
				continue
			}
			for _, id := range sortedKeys(byID) {
				if f := keep(id, typ); f != nil {
					if v := value(typ, byID[id]); v != nil {
						p.Fields[f.Name] = v
					} else {
						p.Dropped[id]++
					}
				}
			}
		}
	}
	if evs, ok := root["events"].([]any); ok {
		for _, e := range evs {
			ev, ok := e.(map[string]any)
			if !ok {
				continue
			}
			cat, _ := ev["category"].(string)
			name, _ := ev["name"].(string)
			f := keep(cat+"."+name, "event")
			if f == nil {
				continue
			}
			item := map[string]any{"timestamp": ev["timestamp"]}
			if x, ok := ev["extra"].(map[string]any); ok {
				for k := range x {
					// The SDKs' own extras (Glean.js adds glean_timestamp,
					// an exact time in milliseconds) are not the
					// metric's, and are not kept.
					if strings.HasPrefix(k, "glean_") {
						delete(x, k)
					}
				}
				if len(x) > 0 {
					item["extra"] = x
				}
			}
			list, _ := p.Fields[f.Name].([]any)
			p.Fields[f.Name] = append(list, item)
		}
	}
	return p, nil
}

// value turns a metric's payload into its field's shape (import.go's spec).
func value(typ string, v any) any {
	switch typ {
	case "timespan":
		if m, ok := v.(map[string]any); ok {
			return m["value"]
		}
		return nil
	case "datetime":
		return datetime(v)
	case "timing_distribution", "memory_distribution", "custom_distribution":
		return histogram(v)
	case "labeled_custom_distribution", "labeled_memory_distribution", "labeled_timing_distribution":
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := []any{}
		for _, label := range sortedKeys(m) {
			h, ok := histogram(m[label]).(map[string]any)
			if !ok {
				return nil
			}
			h["label"] = label
			out = append(out, h)
		}
		return out
	case "dual_labeled_counter":
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := []any{}
		for _, key := range sortedKeys(m) {
			cats, ok := m[key].(map[string]any)
			if !ok {
				return nil
			}
			for _, c := range sortedKeys(cats) {
				out = append(out, map[string]any{"key": key, "category": c, "value": cats[c]})
			}
		}
		return out
	case "object":
		// Glean.js sends the object serialised; the other SDKs as JSON.
		if s, ok := v.(string); ok {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			var x any
			if dec.Decode(&x) != nil {
				return nil
			}
			return x
		}
	}
	return v
}

func histogram(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]any{"sum": m["sum"]}
	if vals, ok := m["values"].(map[string]any); ok {
		out["values"] = vals
	} else {
		out["values"] = map[string]any{}
	}
	return out
}

// datetime reads Glean's datetimes, whose precision follows the metric's
// time_unit ("2019-03-13T15:04:05.123-05:00" down to "2019-03-13-05:00"),
// as RFC 3339 in UTC; anything else is passed on for validation to refuse.
func datetime(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15Z07:00", "2006-01-02Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
