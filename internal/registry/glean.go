package registry

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// GleanPing ties a dataset to a Glean ping: pings POSTed to
// /submit/{app_id}/{ping}/… are stored in it (see docs/glean.md).
type GleanPing struct {
	AppID string
	Ping  string
	// IncludeClientID: the ping carries client_info.client_id, the
	// dataset's pseudonymous subject.
	IncludeClientID bool
	// Reasons the ping may be sent with (ping_info.reason).
	Reasons []string
}

// GleanMetric ties a field to the Glean metric it holds.
type GleanMetric struct {
	// Metric is the metric's id, category.name.
	Metric string
	// Type is the Glean metric type (counter, labeled_counter, event, …).
	Type string
	// Lifetime is ping, user or application.
	Lifetime string
	// ExpiresVersion, when above 0, is the app major version from which the
	// metric is expired: pings from such versions do not carry it.
	ExpiresVersion int
}

func (g *GleanMetric) canonical() string {
	return fmt.Sprintf(" glean{%q %s %s %d}", g.Metric, g.Type, g.Lifetime, g.ExpiresVersion)
}

func (g *GleanPing) canonical() string {
	return fmt.Sprintf(" glean{%q %q %t %q}", g.AppID, g.Ping, g.IncludeClientID, g.Reasons)
}

// GleanTypes lists every metric type of glean_parser's metrics 2-0-0 schema.
var GleanTypes = []string{"event", "boolean", "string", "string_list", "counter", "quantity", "timespan",
	"timing_distribution", "custom_distribution", "memory_distribution", "datetime", "uuid", "url", "jwe",
	"labeled_boolean", "labeled_string", "labeled_counter", "labeled_custom_distribution",
	"labeled_memory_distribution", "labeled_timing_distribution", "labeled_quantity", "rate", "text",
	"object", "dual_labeled_counter"}

var (
	// GleanAppIDRE is an application id as it appears in a submission
	// path: what the Glean SDKs send, dots already turned into dashes.
	GleanAppIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$`)
	// GleanPingRE is a ping name (kebab case, as pings.2-0-0 requires).
	GleanPingRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,29}$`)
	// GleanMetricRE is category.name with dotted sub-categories.
	GleanMetricRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,29}(\.[a-z_][a-z0-9_]{0,29})*\.[a-z_][a-z0-9_]{0,69}$`)
)

// GleanKey is how a (app id, ping) pair is indexed. Application ids are
// compared as the pipeline does: case-insensitively, with dots as dashes.
func GleanKey(appID, ping string) string {
	return strings.ReplaceAll(strings.ToLower(appID), ".", "-") + "/" + ping
}

// DatasetByGlean returns the dataset that receives ping of appID, or nil.
func (r *Registry) DatasetByGlean(appID, ping string) *Dataset {
	return r.byGlean[GleanKey(appID, ping)]
}

// FieldByMetric returns the field holding the Glean metric id, or nil.
func (d *Dataset) FieldByMetric(metric string) *Field { return d.byMetric[metric] }

func (p *parser) gleanPing(n *yaml.Node, at string) *GleanPing {
	m := p.mapping(n, at, []string{"app_id", "ping", "include_client_id", "reasons"}, []string{"app_id", "ping"})
	g := &GleanPing{AppID: p.str(m["app_id"]), Ping: p.str(m["ping"])}
	if v := m["app_id"]; v != nil && !GleanAppIDRE.MatchString(g.AppID) {
		p.bad(v, "%s.app_id: %q is not a Glean application id (letters, digits, '.', '-', '_')", at, g.AppID)
	}
	if v := m["ping"]; v != nil && !GleanPingRE.MatchString(g.Ping) {
		p.bad(v, "%s.ping: %q is not a Glean ping name (kebab-case, at most 30 characters)", at, g.Ping)
	}
	if v := m["include_client_id"]; v != nil {
		if err := v.Decode(&g.IncludeClientID); err != nil {
			p.bad(v, "%s.include_client_id: must be true or false", at)
		}
	}
	if v := m["reasons"]; v != nil {
		if err := v.Decode(&g.Reasons); err != nil {
			p.bad(v, "%s.reasons: must be a list of reason codes", at)
		}
	}
	return g
}

func (p *parser) gleanMetric(n *yaml.Node, at string) *GleanMetric {
	m := p.mapping(n, at, []string{"metric", "type", "lifetime", "expires_version"}, []string{"metric", "type"})
	g := &GleanMetric{Metric: p.str(m["metric"]), Type: p.str(m["type"]), Lifetime: p.str(m["lifetime"])}
	if v := m["metric"]; v != nil && !GleanMetricRE.MatchString(g.Metric) {
		p.bad(v, "%s.metric: %q is not a Glean metric id (category.name in snake_case)", at, g.Metric)
	}
	if v := m["type"]; v != nil && !slices.Contains(GleanTypes, g.Type) {
		p.bad(v, "%s.type: %q is not a Glean metric type", at, g.Type)
	}
	if g.Lifetime == "" {
		g.Lifetime = "ping"
	}
	if v := m["lifetime"]; v != nil && !slices.Contains([]string{"ping", "user", "application"}, g.Lifetime) {
		p.bad(v, "%s.lifetime: must be ping, user or application", at)
	}
	if v := m["expires_version"]; v != nil {
		p.intVal(v, at+".expires_version", &g.ExpiresVersion)
	}
	return g
}

// gleanIndex checks a dataset's Glean ties and indexes its metrics.
func (p *parser) gleanIndex(d *Dataset, n *yaml.Node, at string) {
	d.byMetric = map[string]*Field{}
	for _, f := range d.Fields {
		if f.Glean == nil {
			continue
		}
		if d.Glean == nil {
			p.bad(n, "%s.fields.%s.glean: the dataset declares no glean ping, so no ping can carry this metric", at, f.Name)
			continue
		}
		if other := d.byMetric[f.Glean.Metric]; other != nil {
			p.bad(n, "%s.fields.%s.glean.metric: %s is already held by field %s", at, f.Name, f.Glean.Metric, other.Name)
		}
		d.byMetric[f.Glean.Metric] = f
	}
}
