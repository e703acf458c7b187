package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Problem is one lint finding, with the line it is on.
type Problem struct {
	Source  string
	Line    int
	Message string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.Source, p.Line, p.Message) }

// Options tune loading.
type Options struct {
	// Now is the time expiry is judged at (zero: the wall clock).
	Now time.Time
	// AllowExpired loads expired datasets without a problem, so a server
	// can answer 410 for them; lint leaves it false.
	AllowExpired bool
}

// Load reads and lints a registry file as `steward registry lint` does.
func Load(path string) (*Registry, []Problem) { return LoadWith(path, Options{}) }

// LoadWith reads and lints a registry file.
func LoadWith(path string, opt Options) (*Registry, []Problem) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []Problem{{Source: path, Line: 0, Message: "cannot read the registry: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}}
	}
	return ParseWith(b, path, opt)
}

// Parse lints registry YAML; it returns a registry only when there are no
// problems.
func Parse(data []byte, source string) (*Registry, []Problem) {
	return ParseWith(data, source, Options{})
}

var (
	nameRE     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	durationRE = regexp.MustCompile(`^([0-9]+)(m|h|d|w)$`)
	reserved   = []string{"/v1/", "/admin", "/privacy", "/sdk", "/metrics", "/healthz", "/readyz", "/callbacks", "/static/", "/login", "/logout", "/account", "/submit/"}
	lawful     = []string{"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interest"}
	catNames   = map[string]Category{"technical": 1, "interaction": 2, "web_activity": 3, "stored_content": 3, "highly_sensitive": 4}
)

type parser struct {
	src   string
	opt   Options
	probs []Problem
}

func (p *parser) bad(n *yaml.Node, f string, a ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.probs = append(p.probs, Problem{Source: p.src, Line: line, Message: fmt.Sprintf(f, a...)})
}

// ParseWith lints registry YAML with options.
func ParseWith(data []byte, source string, opt Options) (*Registry, []Problem) {
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	p := &parser{src: source, opt: opt}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 1
		fmt.Sscanf(err.Error(), "yaml: line %d:", &line)
		return nil, []Problem{{Source: source, Line: line, Message: "not valid YAML: " + err.Error()}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, []Problem{{Source: source, Line: 1, Message: "a registry is a mapping with controller and datasets"}}
	}
	r := &Registry{Source: source}
	// review: holds a proposal's title, links and answers (internal/review);
	// the registry itself ignores it.
	top := p.mapping(doc.Content[0], "registry", []string{"controller", "datasets", "review"}, []string{"controller", "datasets"})
	if n := top["controller"]; n != nil {
		c := p.mapping(n, "controller", []string{"name", "contact", "dpo"}, []string{"name", "contact"})
		r.Controller = Controller{Name: p.str(c["name"]), Contact: p.str(c["contact"]), DPO: p.str(c["dpo"])}
	}
	if n := top["datasets"]; n != nil {
		if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
			p.bad(n, "datasets: must map dataset names to their declarations")
		} else {
			aliases := map[string]bool{}
			seen := map[string]int{}
			for i := 0; i < len(n.Content); i += 2 {
				if p.twice(seen, n.Content[i], "datasets") {
					continue
				}
				if d := p.dataset(n.Content[i], n.Content[i+1]); d != nil {
					if d.PathAlias != "" {
						if aliases[d.PathAlias] {
							p.bad(n.Content[i], "datasets.%s.path_alias: %s is already used by another dataset", d.Name, d.PathAlias)
						}
						aliases[d.PathAlias] = true
					}
					r.Datasets = append(r.Datasets, d)
				}
			}
		}
	}
	if len(p.probs) > 0 {
		// In file order, as an editor walks them; problems on one line
		// keep the order they were found in.
		slices.SortStableFunc(p.probs, func(a, b Problem) int { return a.Line - b.Line })
		return nil, p.probs
	}
	r.index()
	r.digest = Digest(data)
	return r, nil
}

// twice reports a name declared a second time in one mapping (YAML itself
// lets the later one silently replace the first), and remembers the line of
// each first declaration in seen.
func (p *parser) twice(seen map[string]int, k *yaml.Node, at string) bool {
	if first, dup := seen[k.Value]; dup {
		p.bad(k, "%s.%s: declared twice (first at line %d); give each a name of its own", at, k.Value, first)
		return true
	}
	seen[k.Value] = k.Line
	return false
}

// mapping returns n's keys, reporting unknown and missing ones.
func (p *parser) mapping(n *yaml.Node, at string, allowed, required []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.bad(n, "%s: must be a mapping", at)
		return out
	}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			p.bad(k, "%s: unknown key %q (allowed: %s)", at, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if out[k.Value] != nil {
			p.bad(k, "%s: key %q given twice", at, k.Value)
		}
		out[k.Value] = n.Content[i+1]
	}
	for _, req := range required {
		if out[req] == nil {
			p.bad(n, "%s: missing required key %s", at, req)
		}
	}
	return out
}

func (p *parser) str(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.bad(n, "expected a text value")
		return ""
	}
	return n.Value
}

func (p *parser) duration(n *yaml.Node, at string) time.Duration {
	m := durationRE.FindStringSubmatch(p.str(n))
	if m == nil {
		p.bad(n, "%s: %q is not a duration like 10m, 36h, 120d or 2w", at, n.Value)
		return 0
	}
	v, _ := strconv.Atoi(m[1])
	if v <= 0 {
		p.bad(n, "%s: must be longer than zero", at)
	}
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(v) * unit
}

var datasetKeys = []string{"description", "purpose", "lawful_basis", "retention", "owner", "expires", "path_alias",
	"sample_rate", "store", "subject", "access", "suppress_erased", "glean", "fields"}

func (p *parser) dataset(kn, n *yaml.Node) *Dataset {
	name := kn.Value
	at := "datasets." + name
	if !nameRE.MatchString(name) {
		p.bad(kn, "%s: a dataset name is lower-case letters, digits and _ starting with a letter", at)
	}
	m := p.mapping(n, at, datasetKeys, []string{"description", "purpose", "lawful_basis", "retention", "owner", "expires", "fields"})
	d := &Dataset{Name: name, Line: kn.Line, SampleRate: 1,
		Description: p.str(m["description"]), Purpose: p.str(m["purpose"]), Owner: p.str(m["owner"]),
		LawfulBasis: p.str(m["lawful_basis"]), PathAlias: p.str(m["path_alias"]), Store: p.str(m["store"])}
	if v := m["lawful_basis"]; v != nil && !slices.Contains(lawful, d.LawfulBasis) {
		p.bad(v, "%s.lawful_basis: %q is not one of %s", at, d.LawfulBasis, strings.Join(lawful, ", "))
	}
	if v := m["owner"]; v != nil && !strings.Contains(d.Owner, "@") {
		p.bad(v, "%s.owner: must be an e-mail address", at)
	}
	if v := m["retention"]; v != nil {
		d.Retention = p.duration(v, at+".retention")
	}
	if v := m["expires"]; v != nil && v.Value != "never" {
		t, err := time.Parse(time.DateOnly, v.Value)
		switch {
		case err != nil:
			p.bad(v, "%s.expires: %q is not a date (YYYY-MM-DD) or never", at, v.Value)
		case !p.opt.AllowExpired && !p.opt.Now.Before(t):
			p.bad(v, "%s.expires: the dataset expired on %s; renew its review or remove it", at, v.Value)
		}
		d.Expires = t
	}
	if v := m["path_alias"]; v != nil {
		if !strings.HasPrefix(d.PathAlias, "/") {
			p.bad(v, "%s.path_alias: must start with /", at)
		}
		for _, r := range reserved {
			if strings.HasPrefix(d.PathAlias, r) {
				p.bad(v, "%s.path_alias: %s is reserved for steward's own endpoints", at, r)
			}
		}
	}
	if v := m["sample_rate"]; v != nil {
		if err := v.Decode(&d.SampleRate); err != nil || d.SampleRate <= 0 || d.SampleRate > 1 {
			p.bad(v, "%s.sample_rate: must be a number above 0 and at most 1", at)
		}
	}
	if v := m["access"]; v != nil {
		a := p.mapping(v, at+".access", []string{"origins", "server_to_server", "write_key_sha256"}, nil)
		if o := a["origins"]; o != nil {
			if err := o.Decode(&d.Access.Origins); err != nil {
				p.bad(o, "%s.access.origins: must be a list of origins like https://example.org", at)
			}
			for _, s := range d.Access.Origins {
				if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") || strings.Count(s, "/") != 2 {
					p.bad(o, "%s.access.origins: %q is not an origin like https://example.org", at, s)
				}
			}
		}
		if s := a["server_to_server"]; s != nil {
			if err := s.Decode(&d.Access.ServerToServer); err != nil {
				p.bad(s, "%s.access.server_to_server: must be true or false", at)
			}
		}
		d.Access.WriteKeySHA256 = p.str(a["write_key_sha256"])
		if k, err := hex.DecodeString(d.Access.WriteKeySHA256); d.Access.ServerToServer && (err != nil || len(k) != sha256.Size) {
			p.bad(v, "%s.access.write_key_sha256: a server_to_server dataset needs the 64-hex-digit SHA-256 of its write key", at)
		}
	}
	if v := m["fields"]; v != nil {
		if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
			p.bad(v, "%s.fields: must declare at least one field", at)
		} else {
			d.byName = map[string]*Field{}
			seen := map[string]int{}
			for i := 0; i < len(v.Content); i += 2 {
				if p.twice(seen, v.Content[i], at+".fields") {
					continue
				}
				f := p.field(v.Content[i], v.Content[i+1], at+".fields", true, 0)
				if f != nil {
					d.Fields = append(d.Fields, f)
					d.byName[f.Name] = f
				}
			}
		}
	}
	if v := m["subject"]; v != nil {
		s := p.mapping(v, at+".subject", []string{"field", "kind", "identifier"}, []string{"field", "kind"})
		d.Subject = &Subject{Field: p.str(s["field"]), Kind: p.str(s["kind"]), Identifier: p.str(s["identifier"])}
		f := d.byName[d.Subject.Field]
		if s["field"] != nil && f == nil {
			p.bad(s["field"], "%s.subject.field: no field %q in this dataset", at, d.Subject.Field)
		}
		if s["kind"] != nil && d.Subject.Kind != "pseudonymous" && d.Subject.Kind != "direct" {
			p.bad(s["kind"], "%s.subject.kind: must be pseudonymous or direct", at)
		}
		// Only e-mail needs declaring: a uuid field is known by its type, and
		// any other identifier is compared as given (trimmed).
		switch id := s["identifier"]; {
		case id == nil:
		case d.Subject.Identifier != IdentifierEmail:
			p.bad(id, "%s.subject.identifier: must be email (uuid fields are recognised by their type; other identifiers need no declaration)", at)
		case f != nil && f.Type != TypeString:
			p.bad(id, "%s.subject.identifier: email applies only to a string field, not %s", at, f.Type)
		}
	}
	if v := m["suppress_erased"]; v != nil {
		d.SuppressErased = p.duration(v, at+".suppress_erased")
		if d.Subject == nil {
			p.bad(v, "%s.suppress_erased: applies only to a dataset with a subject; without one no event can be told to be an erased person's", at)
		}
	}
	if v := m["glean"]; v != nil {
		d.Glean = p.gleanPing(v, at+".glean")
	}
	if m["fields"] != nil {
		p.gleanIndex(d, m["fields"], at)
	}
	for _, f := range d.Fields {
		d.fieldExpiry = d.fieldExpiry || !f.Expires.IsZero()
	}
	return d
}

var fieldKeys = []string{"type", "category", "description", "required", "source", "max_length", "min", "max",
	"values", "max_items", "items", "fields", "max_keys", "minimise", "expires", "glean"}

func (p *parser) field(kn, n *yaml.Node, parent string, top bool, depth int) *Field {
	at := parent + "." + kn.Value
	if !nameRE.MatchString(kn.Value) {
		p.bad(kn, "%s: a field name is lower-case letters, digits and _ starting with a letter", at)
	}
	if top && kn.Value == "event_id" {
		p.bad(kn, "%s: event_id is reserved for the client's idempotency key", at)
	}
	return p.spec(kn.Value, n, at, top, depth)
}

func (p *parser) spec(name string, n *yaml.Node, at string, top bool, depth int) *Field {
	if depth > 4 {
		p.bad(n, "%s: nested too deeply", at)
		return nil
	}
	req := []string{"type"}
	if top {
		req = append(req, "category")
	}
	m := p.mapping(n, at, fieldKeys, req)
	f := &Field{Name: name, Line: n.Line, Type: Type(p.str(m["type"])), Description: p.str(m["description"]), Source: SourcePayload}
	if m["type"] != nil && !slices.Contains(Types, f.Type) {
		names := make([]string, len(Types))
		for i, t := range Types {
			names[i] = string(t)
		}
		p.bad(m["type"], "%s.type: %q is not one of %s", at, f.Type, strings.Join(names, ", "))
	}
	only := func(key string, types ...Type) bool {
		if m[key] == nil {
			return false
		}
		if !slices.Contains(types, f.Type) {
			p.bad(m[key], "%s.%s: applies only to %s fields, not %s", at, key, joinTypes(types), f.Type)
			return false
		}
		return true
	}
	if v := m["expires"]; v != nil && v.Value != "never" {
		t, err := time.Parse(time.DateOnly, v.Value)
		switch {
		case !top:
			p.bad(v, "%s.expires: nested values expire with their field", at)
		case err != nil:
			p.bad(v, "%s.expires: %q is not a date (YYYY-MM-DD) or never", at, v.Value)
		case !p.opt.AllowExpired && !p.opt.Now.Before(t):
			p.bad(v, "%s.expires: the field expired on %s; renew its review or remove it", at, v.Value)
		}
		f.Expires = t
	}
	if v := m["glean"]; v != nil {
		if !top {
			p.bad(v, "%s.glean: only a top-level field holds a Glean metric", at)
		} else {
			f.Glean = p.gleanMetric(v, at+".glean")
		}
	}
	if v := m["category"]; v != nil {
		if !top {
			p.bad(v, "%s.category: nested values take their field's category", at)
		} else if v.Value == "unclassified" {
			// Counted as the highest category until a person assigns one;
			// a version holding it is never published (Source.Prepare).
			f.Category, f.Unclassified = CategoryHighlySensitive, true
		} else if c, ok := catNames[v.Value]; ok {
			f.Category = c
		} else if c, err := strconv.Atoi(v.Value); err == nil && c >= 1 && c <= 4 {
			f.Category = Category(c)
		} else {
			p.bad(v, "%s.category: must be 1-4 or technical, interaction, web_activity, stored_content, highly_sensitive (or unclassified in a proposal)", at)
		}
	}
	if v := m["required"]; v != nil {
		if err := v.Decode(&f.Required); err != nil {
			p.bad(v, "%s.required: must be true or false", at)
		}
	}
	if v := m["source"]; v != nil {
		f.Source = Origin(v.Value)
		switch {
		case f.Source == SourceRequest && (f.Type == TypeIP || f.Type == TypeUserAgent):
		case f.Source == SourceServer && f.Type == TypeTimestamp:
		case f.Source == SourcePayload:
		default:
			p.bad(v, "%s.source: request applies to ip and user_agent fields, server to timestamp fields", at)
		}
	}
	if only("max_length", TypeString) {
		p.intVal(m["max_length"], at+".max_length", &f.MaxLength)
	}
	if f.Type == TypeString && f.MaxLength == 0 {
		f.MaxLength = 1024
	}
	for _, k := range []string{"min", "max"} {
		if only(k, TypeInteger, TypeNumber) {
			var x float64
			if err := m[k].Decode(&x); err != nil {
				p.bad(m[k], "%s.%s: must be a number", at, k)
			} else if k == "min" {
				f.Min = &x
			} else {
				f.Max = &x
			}
		}
	}
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		p.bad(m["min"], "%s: min is larger than max", at)
	}
	if only("values", TypeEnum) {
		if err := m["values"].Decode(&f.Values); err != nil {
			p.bad(m["values"], "%s.values: must be a list of words", at)
		}
	}
	if f.Type == TypeEnum && len(f.Values) == 0 {
		p.bad(n, "%s: an enum needs a non-empty values list", at)
	}
	if only("max_items", TypeArray) {
		p.intVal(m["max_items"], at+".max_items", &f.MaxItems)
	}
	if f.Type == TypeArray && f.MaxItems == 0 {
		f.MaxItems = 1000
	}
	if only("items", TypeArray) {
		f.Items = p.spec("", m["items"], at+".items", false, depth+1)
	}
	if only("fields", TypeObject) {
		fs := m["fields"]
		if fs.Kind != yaml.MappingNode {
			p.bad(fs, "%s.fields: must be a mapping", at)
		} else {
			seen := map[string]int{}
			for i := 0; i < len(fs.Content); i += 2 {
				if p.twice(seen, fs.Content[i], at+".fields") {
					continue
				}
				if c := p.field(fs.Content[i], fs.Content[i+1], at+".fields", false, depth+1); c != nil {
					f.Fields = append(f.Fields, c)
				}
			}
		}
	}
	if only("max_keys", TypeObject) {
		p.intVal(m["max_keys"], at+".max_keys", &f.MaxKeys)
	}
	if f.Type == TypeObject && len(f.Fields) == 0 && f.MaxKeys == 0 {
		f.MaxKeys = 64
	}
	if f.Type == TypeIP {
		f.Minimise.TruncateV4, f.Minimise.TruncateV6 = 24, 48
	}
	if f.Type == TypeUserAgent {
		f.Minimise.Coarse = true // a raw user agent is never stored
	}
	if v := m["minimise"]; v != nil {
		p.minimise(v, at+".minimise", f)
	}
	return f
}

func (p *parser) minimise(n *yaml.Node, at string, f *Field) {
	m := p.mapping(n, at, []string{"round", "truncate", "coarse", "hash", "drop"}, nil)
	if v := m["round"]; v != nil {
		if f.Type != TypeTimestamp {
			p.bad(v, "%s.round: applies only to timestamp fields, not %s", at, f.Type)
		} else {
			f.Minimise.Round = p.duration(v, at+".round")
		}
	}
	if v := m["truncate"]; v != nil {
		switch {
		case f.Type != TypeIP:
			p.bad(v, "%s.truncate: applies only to ip fields, not %s", at, f.Type)
		case v.Kind == yaml.ScalarNode && v.Value == "drop":
			f.Minimise.Drop = true
		case v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, "/"):
			bits, err := strconv.Atoi(v.Value[1:])
			if err != nil || bits < 0 || bits > 24 {
				p.bad(v, "%s.truncate: keep at most /24 of an IPv4 address (got %s)", at, v.Value)
			} else {
				f.Minimise.TruncateV4 = bits
			}
		case v.Kind == yaml.MappingNode:
			t := p.mapping(v, at+".truncate", []string{"v4", "v6"}, nil)
			if t["v4"] != nil {
				p.intVal(t["v4"], at+".truncate.v4", &f.Minimise.TruncateV4)
				if f.Minimise.TruncateV4 > 24 {
					p.bad(t["v4"], "%s.truncate.v4: keep at most 24 bits of an IPv4 address", at)
				}
			}
			if t["v6"] != nil {
				p.intVal(t["v6"], at+".truncate.v6", &f.Minimise.TruncateV6)
				if f.Minimise.TruncateV6 > 48 {
					p.bad(t["v6"], "%s.truncate.v6: keep at most 48 bits of an IPv6 address", at)
				}
			}
		default:
			p.bad(v, "%s.truncate: use /24, {v4: 24, v6: 48} or drop", at)
		}
	}
	if v := m["coarse"]; v != nil && f.Type != TypeUserAgent {
		p.bad(v, "%s.coarse: applies only to user_agent fields, not %s", at, f.Type)
	}
	if v := m["hash"]; v != nil {
		if !slices.Contains([]Type{TypeString, TypeUUID, TypeInteger}, f.Type) {
			p.bad(v, "%s.hash: applies only to string, uuid and integer fields, not %s", at, f.Type)
		} else if err := v.Decode(&f.Minimise.Hash); err != nil {
			p.bad(v, "%s.hash: must be true or false", at)
		}
	}
	if v := m["drop"]; v != nil {
		if err := v.Decode(&f.Minimise.Drop); err != nil {
			p.bad(v, "%s.drop: must be true or false", at)
		}
	}
}

func (p *parser) intVal(n *yaml.Node, at string, dst *int) {
	if err := n.Decode(dst); err != nil || *dst < 0 {
		p.bad(n, "%s: must be a whole number of at least 0", at)
	}
}

func joinTypes(ts []Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, "/")
}
