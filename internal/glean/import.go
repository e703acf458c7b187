// Package glean turns Glean's metrics.yaml and pings.yaml into a registry
// proposal, and Glean pings into the events of those datasets. The formats
// are glean_parser's metrics and pings 2-0-0 schemas and the Glean book's
// ping payload; docs/glean.md describes the mapping.
package glean

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-privacy/steward/internal/registry"
)

// The schemas steward reads.
const (
	MetricsSchema = "moz://mozilla.org/schemas/glean/metrics/2-0-0"
	PingsSchema   = "moz://mozilla.org/schemas/glean/pings/2-0-0"
)

// File is one input file.
type File struct {
	Name string
	Data []byte
}

// Options tune an import.
type Options struct {
	// AppID is the application id the pings are submitted under.
	AppID string
	// AppVersion is the app's major version, which resolves expires given
	// as a version; 0 when not given.
	AppVersion int
	// Now judges date expiries (zero: the wall clock).
	Now time.Time
	// Purpose, LawfulBasis and Retention of the new datasets (Glean's
	// files do not say); defaults product_improvement,
	// legitimate_interest, 120d.
	Purpose, LawfulBasis, Retention string
}

// Result is an import: the datasets and what the proposal says about them.
type Result struct {
	// Datasets maps dataset names to their declarations, in order.
	Datasets *yaml.Node
	// Names of the datasets, in order.
	Names []string
	// Links are every bug and data review, in order, once each.
	Links []string
	// Owners are every notification e-mail, in order, once each.
	Owners []string
	// Metrics is how many metrics were imported as fields.
	Metrics int
	// Warnings are what a person must look at; nothing was dropped
	// silently.
	Warnings []Problem
}

// Error is an import that failed: every problem, with file and line.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	snakeRE   = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,69}$`)
	categoRE  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,29}(\.[a-z_][a-z0-9_]{0,29})*$`)
	fieldRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	sensitive = map[string]int{"technical": 1, "interaction": 2, "stored_content": 3, "web_activity": 3, "highly_sensitive": 4}
	// builtIn are the pings the Glean SDKs send without a pings.yaml.
	builtIn = map[string]string{
		"metrics":          "Glean's metrics ping: metrics that are not sent in another ping, about once a day.",
		"baseline":         "Glean's baseline ping: a minimal ping sent when the application becomes active or inactive.",
		"events":           "Glean's events ping: the events recorded since the last one.",
		"deletion-request": "Glean's deletion-request ping: sent when a person turns upload off; steward erases the client id's data (it stores no metric of it).",
	}
)

var metricKeys = []string{"type", "description", "metadata", "lifetime", "send_in_pings", "notification_emails", "bugs",
	"data_reviews", "disabled", "expires", "version", "time_unit", "memory_unit", "labels", "dual_labels", "extra_keys",
	"gecko_datapoint", "range_min", "range_max", "bucket_count", "histogram_type", "unit", "no_lint", "data_sensitivity",
	"telemetry_mirror", "denominator_metric", "in_session", "structure", "jwe_support_was_removed"}

var pingKeys = []string{"description", "metadata", "include_client_id", "uploader_capabilities", "send_if_empty",
	"notification_emails", "bugs", "data_reviews", "reasons", "enabled", "no_lint"}

type metricDef struct {
	file        string
	line        int
	id          string // category.name
	typ         string
	description string
	lifetime    string
	pings       []string
	emails      []string
	bugs        []string
	reviews     []string
	disabled    bool
	expires     time.Time
	expiresVer  int
	category    int // 0 = unclassified
	sensitivity []string
	timeUnit    string
	memoryUnit  string
	labels      []string
	dualLabels  [2][]string
	extraKeys   []string
	structure   *yaml.Node
}

type pingDef struct {
	file            string
	line            int
	name            string
	description     string
	includeClientID bool
	reasons         []string
	reasonText      []string
	emails          []string
	bugs            []string
	reviews         []string
	enabled         bool
}

type importer struct {
	opt     Options
	probs   []Problem
	warns   []Problem
	metrics []*metricDef
	pings   map[string]*pingDef
	order   []string
}

func (im *importer) bad(file string, err error) {
	var le *lineError
	if errors.As(err, &le) {
		im.probs = append(im.probs, Problem{Source: file, Line: le.line, Message: le.msg})
		return
	}
	im.probs = append(im.probs, Problem{Source: file, Line: 0, Message: err.Error()})
}

func (im *importer) warn(file string, line int, f string, a ...any) {
	im.warns = append(im.warns, Problem{Source: file, Line: line, Message: "warning: " + fmt.Sprintf(f, a...)})
}

// Import reads metrics and pings files (told apart by their $schema).
func Import(files []File, opt Options) (*Result, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	if opt.Purpose == "" {
		opt.Purpose = "product_improvement"
	}
	if opt.LawfulBasis == "" {
		opt.LawfulBasis = "legitimate_interest"
	}
	if opt.Retention == "" {
		opt.Retention = "120d"
	}
	if !registry.GleanAppIDRE.MatchString(opt.AppID) {
		return nil, &Error{[]Problem{{Source: "--app-id", Message: fmt.Sprintf("%q is not a Glean application id (letters, digits, '.', '-', '_', at most 100)", opt.AppID)}}}
	}
	im := &importer{opt: opt, pings: map[string]*pingDef{}}
	if len(files) == 0 {
		return nil, &Error{[]Problem{{Source: "import", Message: "give at least one metrics.yaml"}}}
	}
	for _, f := range files {
		im.file(f)
	}
	if len(im.probs) > 0 {
		return nil, &Error{im.probs}
	}
	res := im.build()
	if len(im.probs) > 0 {
		return nil, &Error{im.probs}
	}
	res.Warnings = im.warns
	return res, nil
}

func (im *importer) file(f File) {
	var doc yaml.Node
	if err := yaml.Unmarshal(f.Data, &doc); err != nil {
		line := 1
		fmt.Sscanf(err.Error(), "yaml: line %d:", &line)
		im.probs = append(im.probs, Problem{Source: f.Name, Line: line, Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")})
		return
	}
	top := deref(&doc)
	if top == nil || top.Kind != yaml.MappingNode {
		im.probs = append(im.probs, Problem{Source: f.Name, Line: 1, Message: "a Glean file is a mapping with $schema"})
		return
	}
	es, err := entries(top)
	if err != nil {
		im.bad(f.Name, err)
		return
	}
	schema := ""
	var schemaNode *yaml.Node
	for _, e := range es {
		if e.key.Value == "$schema" {
			schema, _ = scalar(e.val)
			schemaNode = e.val
		}
	}
	switch schema {
	case MetricsSchema:
		im.metricsFile(f.Name, es)
	case PingsSchema:
		im.pingsFile(f.Name, es)
	case "":
		im.probs = append(im.probs, Problem{Source: f.Name, Line: 1, Message: "no $schema: steward reads " + MetricsSchema + " and " + PingsSchema})
	default:
		im.bad(f.Name, problemAt(schemaNode, fmt.Sprintf("$schema %q is not a schema steward knows (it reads %s and %s)", schema, MetricsSchema, PingsSchema)))
	}
}

func (im *importer) metricsFile(file string, es []pair) {
	for _, cat := range es {
		switch cat.key.Value {
		case "$schema", "$tags", "no_lint":
			continue
		}
		name := cat.key.Value
		if !categoRE.MatchString(name) || len(name) > 40 || name == "pings" || name == "tags" {
			im.bad(file, problemAt(cat.key, fmt.Sprintf("category %q breaks Glean's naming rules (dotted snake_case, at most 40 characters, not pings or tags)", name)))
			continue
		}
		ms, err := entries(cat.val)
		if err != nil {
			im.bad(file, err)
			continue
		}
		if cat.val == nil || cat.val.Kind != yaml.MappingNode {
			im.bad(file, problemAt(cat.key, fmt.Sprintf("category %s must map metric names to their definitions", name)))
			continue
		}
		for _, m := range ms {
			if !snakeRE.MatchString(m.key.Value) {
				im.bad(file, problemAt(m.key, fmt.Sprintf("metric name %q in %s breaks Glean's naming rules (snake_case, at most 70 characters)", m.key.Value, name)))
				continue
			}
			if d := im.metric(file, name+"."+m.key.Value, m); d != nil {
				im.metrics = append(im.metrics, d)
			}
		}
	}
}

func (im *importer) metric(file, id string, m pair) *metricDef {
	d := &metricDef{file: file, line: m.key.Line, id: id, lifetime: "ping"}
	es, err := entries(m.val)
	if err != nil || m.val == nil || m.val.Kind != yaml.MappingNode {
		if err == nil {
			err = problemAt(m.key, "metric "+id+" must be a mapping")
		}
		im.bad(file, err)
		return nil
	}
	fail := func(n *yaml.Node, f string, a ...any) *metricDef {
		im.bad(file, problemAt(n, "metric "+id+": "+fmt.Sprintf(f, a...)))
		return nil
	}
	vals := map[string]*yaml.Node{}
	for _, e := range es {
		if !slices.Contains(metricKeys, e.key.Value) {
			return fail(e.key, "unknown key %q", e.key.Value)
		}
		vals[e.key.Value] = e.val
	}
	for _, req := range []string{"type", "description", "bugs", "notification_emails", "data_reviews", "expires"} {
		if vals[req] == nil {
			return fail(m.key, "missing required key %s", req)
		}
	}
	str := func(k string) (string, bool) {
		if vals[k] == nil {
			return "", true
		}
		s, err := scalar(vals[k])
		if err != nil {
			fail(vals[k], "%s: %v", k, err)
			return "", false
		}
		return s, true
	}
	list := func(k string) ([]string, bool) {
		s, err := stringList(vals[k])
		if err != nil {
			fail(vals[k], "%s: %v", k, err)
			return nil, false
		}
		return s, true
	}
	var ok bool
	if d.typ, ok = str("type"); !ok {
		return nil
	}
	if !slices.Contains(registry.GleanTypes, d.typ) {
		return fail(vals["type"], "type %q is not a Glean metric type of the 2-0-0 schema", d.typ)
	}
	if d.description, ok = str("description"); !ok {
		return nil
	}
	if vals["lifetime"] != nil {
		if d.lifetime, ok = str("lifetime"); !ok {
			return nil
		}
		if !slices.Contains([]string{"ping", "user", "application"}, d.lifetime) {
			return fail(vals["lifetime"], "lifetime %q is not ping, user or application", d.lifetime)
		}
	}
	if d.typ == "event" && d.lifetime != "ping" {
		return fail(vals["lifetime"], "event metrics must have ping lifetime")
	}
	for k, dst := range map[string]*[]string{"send_in_pings": &d.pings, "notification_emails": &d.emails, "bugs": &d.bugs,
		"data_reviews": &d.reviews, "labels": &d.labels, "data_sensitivity": &d.sensitivity} {
		if *dst, ok = list(k); !ok {
			return nil
		}
	}
	if len(d.emails) == 0 {
		return fail(vals["notification_emails"], "notification_emails needs at least one address")
	}
	for _, e := range d.emails {
		if !strings.Contains(e, "@") {
			return fail(vals["notification_emails"], "%q is not an e-mail address", e)
		}
	}
	if vals["no_lint"] != nil {
		if _, ok = list("no_lint"); !ok {
			return nil
		}
	}
	if vals["disabled"] != nil {
		if d.disabled, err = boolean(vals["disabled"]); err != nil {
			return fail(vals["disabled"], "disabled: %v", err)
		}
	}
	if d.timeUnit, ok = str("time_unit"); !ok {
		return nil
	}
	if d.memoryUnit, ok = str("memory_unit"); !ok {
		return nil
	}
	if d.typ == "memory_distribution" && d.memoryUnit == "" {
		return fail(m.key, "memory_distribution needs memory_unit")
	}
	for _, s := range d.sensitivity {
		c, known := sensitive[s]
		if !known {
			return fail(vals["data_sensitivity"], "data_sensitivity %q is not technical, interaction, stored_content, web_activity or highly_sensitive", s)
		}
		d.category = max(d.category, c)
	}
	if err := im.expires(d, vals["expires"]); err != nil {
		return fail(vals["expires"], "%v", err)
	}
	if n := deref(vals["extra_keys"]); n != nil {
		ks, err := entries(n)
		if err != nil || n.Kind != yaml.MappingNode {
			return fail(n, "extra_keys must map keys to their description")
		}
		for _, k := range ks {
			d.extraKeys = append(d.extraKeys, k.key.Value)
		}
		if len(d.extraKeys) > 50 {
			return fail(n, "extra_keys: at most 50 keys")
		}
	}
	if n := deref(vals["dual_labels"]); n != nil {
		ks, _ := entries(n)
		for _, k := range ks {
			i := map[string]int{"key": 0, "category": 1}
			j, known := i[k.key.Value]
			if !known {
				return fail(k.key, "dual_labels: unknown key %q (key, category)", k.key.Value)
			}
			sub, _ := entries(k.val)
			for _, s := range sub {
				if s.key.Value == "labels" {
					if d.dualLabels[j], err = stringList(s.val); err != nil {
						return fail(s.val, "dual_labels.%s.labels: %v", k.key.Value, err)
					}
				}
			}
		}
	}
	d.structure = deref(vals["structure"])
	if d.typ == "object" && d.structure == nil {
		return fail(m.key, "object metrics need a structure")
	}
	return d
}

// expires resolves a date, never, expired or a major version.
func (im *importer) expires(d *metricDef, n *yaml.Node) error {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return errors.New("expires must be a date (YYYY-MM-DD), never, expired or a major version")
	}
	switch v := n.Value; {
	case v == "never":
	case v == "expired":
		d.expires = time.Unix(0, 0).UTC()
	case isDigits(v):
		ver, err := strconv.Atoi(v)
		if err != nil || ver < 1 {
			return fmt.Errorf("expires %s: a major version is a whole number above 0", v)
		}
		if im.opt.AppVersion <= 0 {
			return fmt.Errorf("expires in major version %d: give the app's major version with --app-version", ver)
		}
		if im.opt.AppVersion >= ver {
			d.expires = time.Unix(0, 0).UTC()
		} else {
			d.expiresVer = ver
		}
	default:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return fmt.Errorf("expires %q is not a date (YYYY-MM-DD), never, expired or a major version", v)
		}
		d.expires = t
	}
	return nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func (im *importer) pingsFile(file string, es []pair) {
	for _, e := range es {
		switch e.key.Value {
		case "$schema", "no_lint":
			continue
		}
		name := e.key.Value
		if !registry.GleanPingRE.MatchString(name) || name == "all-pings" {
			im.bad(file, problemAt(e.key, fmt.Sprintf("ping name %q breaks Glean's naming rules (kebab-case, at most 30 characters)", name)))
			continue
		}
		if p := im.pings[name]; p != nil {
			im.bad(file, problemAt(e.key, fmt.Sprintf("ping %s is declared twice (first in %s:%d)", name, p.file, p.line)))
			continue
		}
		p := &pingDef{file: file, line: e.key.Line, name: name, enabled: true}
		fail := func(n *yaml.Node, f string, a ...any) {
			im.bad(file, problemAt(n, "ping "+name+": "+fmt.Sprintf(f, a...)))
			p = nil
		}
		ks, err := entries(e.val)
		if err != nil || e.val == nil || e.val.Kind != yaml.MappingNode {
			fail(e.key, "must be a mapping")
			continue
		}
		vals := map[string]*yaml.Node{}
		for _, k := range ks {
			if !slices.Contains(pingKeys, k.key.Value) {
				fail(k.key, "unknown key %q", k.key.Value)
				break
			}
			vals[k.key.Value] = k.val
		}
		if p == nil {
			continue
		}
		for _, req := range []string{"description", "include_client_id", "bugs", "notification_emails", "data_reviews"} {
			if vals[req] == nil && p != nil {
				fail(e.key, "missing required key %s", req)
			}
		}
		if p == nil {
			continue
		}
		if p.description, err = scalar(vals["description"]); err != nil {
			fail(vals["description"], "description: %v", err)
			continue
		}
		if p.includeClientID, err = boolean(vals["include_client_id"]); err != nil {
			fail(vals["include_client_id"], "include_client_id: %v", err)
			continue
		}
		if vals["enabled"] != nil {
			if p.enabled, err = boolean(vals["enabled"]); err != nil {
				fail(vals["enabled"], "enabled: %v", err)
				continue
			}
		}
		for k, dst := range map[string]*[]string{"notification_emails": &p.emails, "bugs": &p.bugs, "data_reviews": &p.reviews} {
			if *dst, err = stringList(vals[k]); err != nil && p != nil {
				fail(vals[k], "%s: %v", k, err)
			}
		}
		if p == nil {
			continue
		}
		if len(p.emails) == 0 || !strings.Contains(p.emails[0], "@") {
			fail(vals["notification_emails"], "notification_emails needs an e-mail address")
			continue
		}
		if r := deref(vals["reasons"]); r != nil {
			rs, err := entries(r)
			if err != nil || r.Kind != yaml.MappingNode {
				fail(r, "reasons must map reason codes to their descriptions")
				continue
			}
			for _, x := range rs {
				text, _ := scalar(x.val)
				p.reasons = append(p.reasons, x.key.Value)
				p.reasonText = append(p.reasonText, x.key.Value+": "+oneLine(text))
			}
		}
		im.pings[name] = p
		im.order = append(im.order, name)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// defaultPing is where a metric goes when send_in_pings is not given.
func (d *metricDef) defaultPing() string {
	if d.typ == "event" {
		return "events"
	}
	return "metrics"
}

// sanitise makes a dataset or field name: lower-case letters, digits and
// _, at most 63 characters, a short hash of the original when it had to be
// shortened so two long names cannot meet.
func sanitise(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == '.':
			b.WriteString("__")
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "m" + out
	}
	if len(out) > 63 {
		sum := sha256.Sum256([]byte(s))
		out = out[:54] + "_" + hex.EncodeToString(sum[:4])
	}
	return out
}

// DatasetName is the dataset a ping of app is stored in.
func DatasetName(appID, ping string) string {
	return sanitise(strings.ReplaceAll(strings.ToLower(appID), ".", "_") + "_" + strings.ReplaceAll(ping, "-", "_"))
}

// FieldName is the field a metric is stored in: category.name with each
// dot as a double underscore.
func FieldName(metric string) string { return sanitise(metric) }

func (im *importer) build() *Result {
	res := &Result{Datasets: &yaml.Node{Kind: yaml.MappingNode}}
	byPing := map[string][]*metricDef{}
	addOnce := func(list []string, xs ...string) []string {
		for _, x := range xs {
			if !slices.Contains(list, x) {
				list = append(list, x)
			}
		}
		return list
	}
	for _, d := range im.metrics {
		switch {
		case d.expires.Equal(time.Unix(0, 0).UTC()):
			im.warn(d.file, d.line, "metric %s is expired and is not imported (Glean no longer sends it)", d.id)
			continue
		case !d.expires.IsZero() && !im.opt.Now.Before(d.expires):
			im.warn(d.file, d.line, "metric %s expired on %s and is not imported (Glean no longer sends it); renew it in metrics.yaml", d.id, d.expires.Format(time.DateOnly))
			continue
		}
		pings := d.pings
		if len(pings) == 0 || slices.Contains(pings, "default") {
			pings = addOnce(slices.DeleteFunc(slices.Clone(pings), func(p string) bool { return p == "default" }), d.defaultPing())
		}
		if slices.Contains(pings, "all-pings") {
			pings = addOnce(slices.DeleteFunc(pings, func(p string) bool { return p == "all-pings" }), im.order...)
		}
		for _, p := range pings {
			switch {
			case strings.HasPrefix(p, "glean_"):
				im.warn(d.file, d.line, "metric %s: ping %s is internal to the Glean SDK and is not imported", d.id, p)
			case p == "deletion-request":
				im.warn(d.file, d.line, "metric %s: the deletion-request ping erases the client; steward stores none of its metrics", d.id)
			case im.pings[p] == nil && builtIn[p] == "":
				im.bad(d.file, &lineError{line: d.line, msg: fmt.Sprintf("metric %s is sent in ping %s, which no pings.yaml declares and Glean does not send by itself", d.id, p)})
			default:
				byPing[p] = append(byPing[p], d)
			}
		}
	}
	order := slices.Clone(im.order)
	var extra []string
	for p := range byPing {
		if im.pings[p] == nil {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	order = append(extra, order...)
	names := map[string]string{}
	for _, p := range order {
		name := DatasetName(im.opt.AppID, p)
		if other, dup := names[name]; dup {
			im.bad("pings", &lineError{msg: fmt.Sprintf("pings %s and %s would both be dataset %s", other, p, name)})
			continue
		}
		names[name] = p
		ds, links, owners := im.dataset(p, byPing[p])
		if ds == nil {
			continue
		}
		res.Datasets.Content = append(res.Datasets.Content, str(name), ds)
		res.Names = append(res.Names, name)
		res.Links = addOnce(res.Links, links...)
		res.Owners = addOnce(res.Owners, owners...)
		res.Metrics += len(byPing[p])
	}
	return res
}

func (im *importer) dataset(ping string, metrics []*metricDef) (*yaml.Node, []string, []string) {
	p := im.pings[ping]
	if p == nil {
		p = &pingDef{name: ping, description: builtIn[ping], includeClientID: true, enabled: true}
	}
	var links, owners []string
	links = append(links, p.bugs...)
	links = append(links, p.reviews...)
	owners = append(owners, p.emails...)
	for _, m := range metrics {
		links = append(links, m.bugs...)
		links = append(links, m.reviews...)
		owners = append(owners, m.emails...)
	}
	if len(owners) == 0 {
		im.warn("pings", 0, "ping %s has no metric and no notification_emails; not imported", ping)
		return nil, nil, nil
	}
	desc := oneLine(p.description)
	if len(p.reasonText) > 0 {
		desc += " Sent with the reasons " + strings.Join(p.reasonText, "; ") + "."
	}
	if !p.enabled {
		desc += " Disabled in pings.yaml (the application may enable it)."
	}
	glean := mapping("app_id", im.opt.AppID, "ping", ping, "include_client_id", p.includeClientID)
	if len(p.reasons) > 0 {
		glean.Content = append(glean.Content, str("reasons"), node(p.reasons))
	}
	ds := mapping("description", desc, "purpose", im.opt.Purpose, "lawful_basis", im.opt.LawfulBasis,
		"retention", im.opt.Retention, "owner", owners[0], "expires", "never", "glean", flow(glean))
	if p.includeClientID {
		ds.Content = append(ds.Content, str("subject"), flow(mapping("field", "client_id", "kind", "pseudonymous")))
	}
	fields := &yaml.Node{Kind: yaml.MappingNode}
	add := func(name string, spec *yaml.Node) { fields.Content = append(fields.Content, str(name), spec) }
	for _, f := range infoFields(p) {
		add(f.name, f.spec)
	}
	seen := map[string]string{}
	for _, m := range metrics {
		name := FieldName(m.id)
		if other, dup := seen[name]; dup {
			im.bad(m.file, &lineError{line: m.line, msg: fmt.Sprintf("metrics %s and %s would both be field %s", other, m.id, name)})
			continue
		}
		seen[name] = m.id
		add(name, im.field(m))
	}
	ds.Content = append(ds.Content, str("fields"), fields)
	return ds, links, owners
}

type info struct {
	name string
	spec *yaml.Node
}

// infoFields are ping_info and client_info, as every Glean ping carries them.
func infoFields(p *pingDef) []info {
	s := func(desc string) *yaml.Node {
		return flow(mapping("type", "string", "max_length", 100, "category", 1, "description", desc))
	}
	out := []info{}
	if p.includeClientID {
		out = append(out, info{"client_id", flow(mapping("type", "uuid", "category", 1, "description",
			"client_info.client_id: Glean's random per-profile id (stored only as a keyed hash).", "minimise", flow(mapping("hash", true))))})
	}
	out = append(out,
		info{"ping_seq", flow(mapping("type", "integer", "min", 0, "category", 1, "description", "ping_info.seq: how many pings of this type the client sent before."))},
		info{"ping_start_time", flow(mapping("type", "timestamp", "category", 1, "description", "ping_info.start_time (rounded to the hour).", "minimise", flow(mapping("round", "1h"))))},
		info{"ping_end_time", flow(mapping("type", "timestamp", "category", 1, "description", "ping_info.end_time (rounded to the hour).", "minimise", flow(mapping("round", "1h"))))},
	)
	if len(p.reasons) > 0 {
		out = append(out, info{"ping_reason", flow(mapping("type", "enum", "values", p.reasons, "category", 1, "description", "ping_info.reason: why the ping was sent."))})
	}
	out = append(out,
		info{"app_build", s("client_info.app_build: the build identifier.")},
		info{"app_display_version", s("client_info.app_display_version: the user-visible version.")},
		info{"app_channel", s("client_info.app_channel: the release channel.")},
		info{"architecture", s("client_info.architecture: the device architecture.")},
		info{"os", s("client_info.os: the operating system.")},
		info{"os_version", s("client_info.os_version: the operating system's version.")},
		info{"locale", s("client_info.locale: the application's locale.")},
		info{"telemetry_sdk_build", s("client_info.telemetry_sdk_build: the Glean SDK version.")},
		info{"first_run_date", flow(mapping("type", "timestamp", "category", 1, "description", "client_info.first_run_date (a day).", "minimise", flow(mapping("round", "1d"))))},
		info{"user_agent", flow(mapping("type", "user_agent", "source", "request", "category", 1, "description", "Browser family and major version and OS family only."))},
	)
	return out
}

// Glean's own limits (the SDKs truncate or refuse beyond them).
const (
	maxString     = 255
	maxStringList = 100
	maxURL        = 8192
	maxText       = 200 * 1024
	maxLabels     = 16
	maxBuckets    = 4096
	maxEvents     = 1000
	maxExtra      = 500
)

func (im *importer) field(m *metricDef) *yaml.Node {
	spec, note := im.spec(m)
	cat := any(m.category)
	if m.category == 0 {
		cat = "unclassified"
		im.warn(m.file, m.line, "metric %s has no data_sensitivity: imported as unclassified; a person must assign its category in review before the proposal can be approved", m.id)
	}
	desc := oneLine(m.description) + " — Glean " + m.typ + ", lifetime " + m.lifetime
	if note != "" {
		desc += "; " + note
	}
	sens := "none given"
	if len(m.sensitivity) > 0 {
		sens = strings.Join(m.sensitivity, ", ")
	}
	desc += "; data_sensitivity: " + sens
	if len(m.bugs) > 0 {
		desc += "; bugs: " + strings.Join(m.bugs, " ")
	}
	if len(m.reviews) > 0 {
		desc += "; data reviews: " + strings.Join(m.reviews, " ")
	}
	if m.expiresVer > 0 {
		desc += fmt.Sprintf("; expires in version %d", m.expiresVer)
	}
	if m.disabled {
		desc += "; disabled in metrics.yaml (Glean's server knobs may enable it)"
	}
	spec.Content = append(spec.Content, str("category"), node(cat), str("description"), str(desc))
	if !m.expires.IsZero() {
		spec.Content = append(spec.Content, str("expires"), str(m.expires.Format(time.DateOnly)))
	}
	g := mapping("metric", m.id, "type", m.typ, "lifetime", m.lifetime)
	if m.expiresVer > 0 {
		g.Content = append(g.Content, str("expires_version"), node(m.expiresVer))
	}
	spec.Content = append(spec.Content, str("glean"), flow(g))
	return spec
}

func integer() *yaml.Node { return mapping("type", "integer", "min", 0) }

func distribution() *yaml.Node {
	return mapping("type", "object", "fields", mapping(
		"sum", flow(integer()),
		"values", flow(mapping("type", "object", "max_keys", maxBuckets))))
}

func labelCount(labels []string) int {
	if len(labels) > 0 {
		return len(labels) + 1 // and __other__
	}
	return maxLabels + 1
}

// spec is the steward type of a metric's value; note says how it is kept.
func (im *importer) spec(m *metricDef) (*yaml.Node, string) {
	switch m.typ {
	case "boolean":
		return mapping("type", "boolean"), ""
	case "string":
		return mapping("type", "string", "max_length", maxString), ""
	case "url":
		return mapping("type", "string", "max_length", maxURL), ""
	case "text":
		return mapping("type", "string", "max_length", maxText), ""
	case "uuid":
		return mapping("type", "uuid"), ""
	case "string_list":
		return mapping("type", "array", "max_items", maxStringList, "items", flow(mapping("type", "string", "max_length", maxString))), ""
	case "counter", "quantity":
		return integer(), ""
	case "timespan":
		unit := or(m.timeUnit, "millisecond")
		return integer(), "in " + unit + "s"
	case "datetime":
		r := map[string]string{"day": "1d", "hour": "1h", "minute": "1m"}[or(m.timeUnit, "millisecond")]
		if r == "" {
			return mapping("type", "timestamp"), ""
		}
		return mapping("type", "timestamp", "minimise", flow(mapping("round", r))), "rounded to the " + m.timeUnit
	case "timing_distribution", "memory_distribution", "custom_distribution":
		return distribution(), "a histogram: sum and bucket counts"
	case "rate":
		return mapping("type", "object", "fields", mapping("numerator", flow(integer()), "denominator", flow(integer()))), ""
	case "labeled_boolean", "labeled_string", "labeled_counter", "labeled_quantity":
		note := "any labels"
		if len(m.labels) > 0 {
			note = "labels " + strings.Join(m.labels, ", ")
		}
		return mapping("type", "object", "max_keys", labelCount(m.labels)), note
	case "labeled_custom_distribution", "labeled_memory_distribution", "labeled_timing_distribution":
		item := mapping("type", "object", "fields", mapping(
			"label", flow(mapping("type", "string", "max_length", 111)),
			"sum", flow(integer()),
			"values", flow(mapping("type", "object", "max_keys", maxBuckets))))
		return mapping("type", "array", "max_items", labelCount(m.labels), "items", item), "one histogram per label"
	case "dual_labeled_counter":
		return mapping("type", "array", "max_items", labelCount(m.dualLabels[0])*labelCount(m.dualLabels[1]), "items", mapping("type", "object", "fields", mapping(
			"key", flow(mapping("type", "string", "max_length", 111)),
			"category", flow(mapping("type", "string", "max_length", 111)),
			"value", flow(integer())))), "one count per key and category"
	case "event":
		ev := mapping("timestamp", flow(mapping("type", "integer", "min", 0)))
		extra := mapping()
		plain := true
		for _, k := range m.extraKeys {
			plain = plain && fieldRE.MatchString(k)
			extra.Content = append(extra.Content, str(k), flow(mapping("type", "string", "max_length", maxExtra)))
		}
		switch {
		case len(m.extraKeys) == 0:
		case plain:
			ev.Content = append(ev.Content, str("extra"), mapping("type", "object", "fields", extra))
		default:
			ev.Content = append(ev.Content, str("extra"), flow(mapping("type", "object", "max_keys", len(m.extraKeys))))
		}
		keys := "no extra keys"
		if len(m.extraKeys) > 0 {
			keys = "extra keys " + strings.Join(m.extraKeys, ", ")
		}
		return mapping("type", "array", "max_items", maxEvents, "items", mapping("type", "object", "fields", ev)), "each event's timestamp (ms after the ping started) and " + keys
	case "object":
		s, err := structure(m.structure, 1)
		if err == nil {
			return s, "structure as declared"
		}
		im.warn(m.file, m.line, "metric %s: its structure %v; imported as a value that is dropped at collection until it is declared by hand", m.id, err)
		return mapping("type", "string", "minimise", flow(mapping("drop", true))), "its structure has no steward type yet: dropped at collection"
	}
	// jwe: its support was removed from Glean; nothing steward can check.
	im.warn(m.file, m.line, "metric %s: type %s has no steward type; imported as a value that is dropped at collection until it is declared by hand", m.id, m.typ)
	return mapping("type", "string", "minimise", flow(mapping("drop", true))), "type " + m.typ + " has no steward type yet: dropped at collection"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// structure maps an object metric's JSON-schema subset to steward types.
func structure(n *yaml.Node, depth int) (*yaml.Node, error) {
	n = deref(n)
	if depth > 4 {
		return nil, errors.New("nests deeper than steward's registry allows (4)")
	}
	es, err := entries(n)
	if err != nil || n == nil || n.Kind != yaml.MappingNode {
		return nil, errors.New("is not a mapping with a type")
	}
	var typ string
	var props, items *yaml.Node
	for _, e := range es {
		switch e.key.Value {
		case "type":
			typ, _ = scalar(e.val)
		case "properties":
			props = e.val
		case "items":
			items = e.val
		}
	}
	switch typ {
	case "string":
		return mapping("type", "string", "max_length", 1024), nil
	case "number":
		return mapping("type", "number"), nil
	case "boolean":
		return mapping("type", "boolean"), nil
	case "array":
		if items == nil {
			return nil, errors.New("has an array without items")
		}
		it, err := structure(items, depth+1)
		if err != nil {
			return nil, err
		}
		return mapping("type", "array", "max_items", 1000, "items", it), nil
	case "object":
		ps, err := entries(props)
		if err != nil || len(ps) == 0 {
			return nil, errors.New("has an object without properties")
		}
		fields := mapping()
		for _, p := range ps {
			if !fieldRE.MatchString(p.key.Value) {
				return nil, fmt.Errorf("has a property %q that is not a steward field name", p.key.Value)
			}
			s, err := structure(p.val, depth+1)
			if err != nil {
				return nil, err
			}
			fields.Content = append(fields.Content, str(p.key.Value), s)
		}
		return mapping("type", "object", "fields", fields), nil
	}
	return nil, fmt.Errorf("has type %q (Glean allows object, array, number, string and boolean)", typ)
}
