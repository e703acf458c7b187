// Package policy decides who may read personal data, for what purpose and
// how much of it: per dataset, which roles may read fields up to which
// category, for which declared purposes, and whether they may look up one
// subject. Everything not granted is refused.
package policy

import (
	_ "embed"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
)

// Rule grants one role reads of one dataset.
type Rule struct {
	Role     auth.Role
	Purposes []string
	// MaxCategory is the highest field category the role sees; fields above
	// it are withheld from every record.
	MaxCategory registry.Category
	// Lookup allows asking for one subject's events by identifier.
	Lookup bool
	// RawIdentifiers lets the role see a subject field stored as given;
	// without it the field is withheld and only the keyed subject key is
	// shown. Analysts never get it (lint refuses).
	RawIdentifiers bool
	Line           int
}

// Policy is a loaded, linted read policy.
type Policy struct {
	Source string
	rules  map[string][]Rule // dataset → rules
}

// Problem is one lint finding.
type Problem struct {
	Source  string
	Line    int
	Message string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.Source, p.Line, p.Message) }

//go:embed default.yaml
var DefaultYAML []byte

// OwnPurposes are the purposes steward's own duties read data for, whatever
// the datasets declare; a rule may grant them besides the purposes the
// registry's datasets declare. Any other purpose is a typo or a purpose
// nobody reviewed, and lint refuses it.
var OwnPurposes = map[string]string{
	"data_subject_request": "answering a person's request about their own data (a copy, an erasure)",
	"data_quality":         "the data steward checking that collected data matches its declaration",
}

// Decision is the outcome of a read check.
type Decision struct {
	Allowed bool
	// Reason says why, in words fit for a 403 and the access log.
	Reason         string
	MaxCategory    registry.Category
	Lookup         bool
	RawIdentifiers bool
}

// Decide checks whether role may read dataset for purpose.
func (p *Policy) Decide(dataset string, role auth.Role, purpose string) Decision {
	if purpose == "" {
		return Decision{Reason: "no purpose given: name one with the purpose parameter or the X-Steward-Purpose header"}
	}
	rules := p.rules[dataset]
	roleKnown := false
	for _, r := range rules {
		if r.Role != role {
			continue
		}
		roleKnown = true
		if slices.Contains(r.Purposes, purpose) {
			return Decision{Allowed: true, Reason: "granted by policy line " + fmt.Sprint(r.Line), MaxCategory: r.MaxCategory, Lookup: r.Lookup, RawIdentifiers: r.RawIdentifiers}
		}
	}
	if !roleKnown {
		return Decision{Reason: fmt.Sprintf("role %s may not read %s", role, dataset)}
	}
	return Decision{Reason: fmt.Sprintf("purpose %q is not one for which role %s may read %s", purpose, role, dataset)}
}

// Readable reports whether role may read dataset for any purpose (for
// listing what a caller can see).
func (p *Policy) Readable(dataset string, role auth.Role) bool {
	for _, r := range p.rules[dataset] {
		if r.Role == role {
			return true
		}
	}
	return false
}

// Purposes returns the purposes for which role may read dataset, for
// telling a caller what they could ask for.
func (p *Policy) Purposes(dataset string, role auth.Role) []string {
	var out []string
	for _, r := range p.rules[dataset] {
		if r.Role == role {
			out = append(out, r.Purposes...)
		}
	}
	return out
}

// Empty is a policy that grants nothing: every read is refused.
func Empty(source string) *Policy { return &Policy{Source: source, rules: map[string][]Rule{}} }

// Default is the policy built in for the example registry.
func Default(reg *registry.Registry) (*Policy, []Problem) {
	return Parse(DefaultYAML, "built-in policy", reg)
}

// Load reads and lints a policy file against the registry.
func Load(path string, reg *registry.Registry) (*Policy, []Problem) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []Problem{{Source: path, Message: err.Error()}}
	}
	return Parse(b, path, reg)
}

// Parse lints a policy document against the registry; it returns a policy
// only when there are no problems.
func Parse(data []byte, source string, reg *registry.Registry) (*Policy, []Problem) {
	return parse(data, source, reg, false)
}

// parse is Parse; skipUnknown leaves out the rules of datasets reg does
// not declare instead of calling them problems (Source.For).
func parse(data []byte, source string, reg *registry.Registry, skipUnknown bool) (*Policy, []Problem) {
	var probs []Problem
	bad := func(n *yaml.Node, f string, a ...any) {
		line := 0
		if n != nil {
			line = n.Line
		}
		probs = append(probs, Problem{Source: source, Line: line, Message: fmt.Sprintf(f, a...)})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Problem{{Source: source, Line: yamlLine(err), Message: "not valid YAML: " + err.Error()}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, []Problem{{Source: source, Line: 1, Message: "a policy is a mapping with one key, datasets"}}
	}
	p := &Policy{Source: source, rules: map[string][]Rule{}}
	purposes := knownPurposes(reg)
	top := doc.Content[0]
	for i := 0; i < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value != "datasets" {
			bad(k, "unknown key %q (allowed: datasets)", k.Value)
			continue
		}
		if v.Kind != yaml.MappingNode {
			bad(v, "datasets: must map dataset names to lists of rules")
			continue
		}
		seen := map[string]int{}
		for j := 0; j < len(v.Content); j += 2 {
			dn, rules := v.Content[j], v.Content[j+1]
			if first, dup := seen[dn.Value]; dup {
				bad(dn, "datasets.%s: listed twice (first at line %d); put all its rules in one list", dn.Value, first)
				continue
			}
			seen[dn.Value] = dn.Line
			ds := reg.Dataset(dn.Value)
			if ds == nil {
				if !skipUnknown {
					bad(dn, "datasets.%s: no such dataset in the registry", dn.Value)
				}
				continue
			}
			if rules.Kind != yaml.SequenceNode {
				bad(rules, "datasets.%s: must be a list of rules", dn.Value)
				continue
			}
			for _, rn := range rules.Content {
				if r, ok := parseRule(rn, ds, reg, purposes, bad); ok {
					p.rules[ds.Name] = append(p.rules[ds.Name], r)
				}
			}
		}
	}
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
		return nil, probs
	}
	return p, nil
}

// knownPurposes are those a rule may name: every purpose a dataset of the
// registry declares, and steward's own.
func knownPurposes(reg *registry.Registry) map[string]bool {
	out := map[string]bool{}
	for _, d := range reg.Datasets {
		out[d.Purpose] = true
	}
	for p := range OwnPurposes {
		out[p] = true
	}
	return out
}

func purposeProblem(purpose string, reg *registry.Registry) string {
	var declared []string
	for _, d := range reg.Datasets {
		if !slices.Contains(declared, d.Purpose) {
			declared = append(declared, d.Purpose)
		}
	}
	slices.Sort(declared)
	own := slices.Sorted(maps.Keys(OwnPurposes))
	return fmt.Sprintf("purpose %q is declared by no dataset in the registry (declared: %s) and is not one of steward's own (%s)",
		purpose, strings.Join(declared, ", "), strings.Join(own, ", "))
}

func parseRule(n *yaml.Node, ds *registry.Dataset, reg *registry.Registry, purposes map[string]bool, bad func(*yaml.Node, string, ...any)) (Rule, bool) {
	at := "datasets." + ds.Name
	r := Rule{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		bad(n, "%s: each rule is a mapping with role, purposes and max_category", at)
		return r, false
	}
	ok := true
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		seen[k.Value] = true
		switch k.Value {
		case "role":
			if !auth.ValidRole(v.Value) {
				bad(v, "%s: unknown role %q", at, v.Value)
				ok = false
			}
			r.Role = auth.Role(v.Value)
		case "purposes":
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				bad(v, "%s: purposes must be a non-empty list", at)
				ok = false
				continue
			}
			for _, pn := range v.Content {
				if pn.Kind != yaml.ScalarNode || strings.TrimSpace(pn.Value) == "" {
					bad(pn, "%s: a purpose is a word like %s", at, ds.Purpose)
					ok = false
					continue
				}
				if !purposes[pn.Value] {
					bad(pn, "%s: %s", at, purposeProblem(pn.Value, reg))
					ok = false
					continue
				}
				r.Purposes = append(r.Purposes, pn.Value)
			}
		case "max_category":
			var c int
			if err := v.Decode(&c); err != nil || c < 1 || c > 4 {
				bad(v, "%s: max_category must be 1, 2, 3 or 4", at)
				ok = false
			}
			r.MaxCategory = registry.Category(c)
		case "lookup":
			if err := v.Decode(&r.Lookup); err != nil {
				bad(v, "%s: lookup must be true or false", at)
				ok = false
			}
		case "raw_identifiers":
			if err := v.Decode(&r.RawIdentifiers); err != nil {
				bad(v, "%s: raw_identifiers must be true or false", at)
				ok = false
			}
		default:
			bad(k, "%s: unknown key %q (allowed: role, purposes, max_category, lookup, raw_identifiers)", at, k.Value)
			ok = false
		}
	}
	if r.Role == auth.System {
		bad(n, "%s: role system is another system's credential for reporting its own accesses and reads no collected data", at)
		ok = false
	}
	if r.Role == auth.App {
		bad(n, "%s: role app is the product backend's credential for submitting requests and reads no collected data", at)
		ok = false
	}
	if r.RawIdentifiers && r.Role == auth.Analyst {
		bad(n, "%s: analysts see only keyed subject keys; raw_identifiers is not allowed for role analyst", at)
		ok = false
	}
	for _, req := range []string{"role", "purposes", "max_category"} {
		if !seen[req] {
			bad(n, "%s: rule is missing %s", at, req)
			ok = false
		}
	}
	return r, ok
}

func yamlLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); e == nil {
		return line
	}
	return 1
}

// Rules returns the rules granting reads of dataset, in the order the
// policy declares them (for the public notice and the records of
// processing, which say who may read what).
func (p *Policy) Rules(dataset string) []Rule {
	return slices.Clone(p.rules[dataset])
}
