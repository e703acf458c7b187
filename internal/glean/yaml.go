package glean

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/steward-privacy/steward/internal/registry"
)

// pair is one key of a mapping after aliases and merge keys are resolved.
type pair struct {
	key *yaml.Node
	val *yaml.Node
}

// maxMerge bounds merge-key and alias resolution, so a hostile file cannot
// make the importer recurse without end.
const maxMerge = 16

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxMerge; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n
}

// entries lists a mapping's keys in order, with YAML merge keys (<<: *x,
// <<: [*a, *b]) expanded as YAML 1.1 specifies: a key given in the mapping
// itself wins over a merged one, and earlier merged mappings over later.
func entries(n *yaml.Node) ([]pair, error) {
	budget := maxPairs
	return entriesDepth(deref(n), 0, &budget)
}

// maxPairs bounds the keys one mapping expands to, so merge keys that
// name each other many times over cannot grow without end.
const maxPairs = 100000

func entriesDepth(n *yaml.Node, depth int, budget *int) ([]pair, error) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	if depth > maxMerge {
		return nil, problemAt(n, "merge keys nested too deeply")
	}
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if *budget--; *budget < 0 {
			return nil, problemAt(k, "merge keys expand to too many keys")
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			srcs := []*yaml.Node{deref(v)}
			if s := deref(v); s != nil && s.Kind == yaml.SequenceNode {
				srcs = s.Content
			}
			for _, src := range srcs {
				src = deref(src)
				if src == nil || src.Kind != yaml.MappingNode {
					return nil, problemAt(k, "a merge key (<<) must name a mapping")
				}
				sub, err := entriesDepth(src, depth+1, budget)
				if err != nil {
					return nil, err
				}
				merged = append(merged, sub...)
			}
			continue
		}
		own = append(own, pair{deref(k), deref(v)})
	}
	seen := map[string]bool{}
	out := make([]pair, 0, len(own)+len(merged))
	for _, p := range own {
		if seen[p.key.Value] {
			return nil, problemAt(p.key, fmt.Sprintf("%q is given twice", p.key.Value))
		}
		seen[p.key.Value] = true
		out = append(out, p)
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// lineError is a problem found at a node; the importer adds the file name.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

func problemAt(n *yaml.Node, msg string) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &lineError{line: line, msg: msg}
}

// strings decodes a scalar or a list of scalars.
func stringList(n *yaml.Node) ([]string, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		return nil, problemAt(n, "must be a list")
	}
	if n.Kind != yaml.SequenceNode {
		return nil, problemAt(n, "must be a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		c = deref(c)
		if c == nil || c.Kind != yaml.ScalarNode {
			return nil, problemAt(c, "must be a list of text values")
		}
		out = append(out, c.Value)
	}
	return out, nil
}

func scalar(n *yaml.Node) (string, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", problemAt(n, "must be a single value")
	}
	return n.Value, nil
}

func boolean(n *yaml.Node) (bool, error) {
	n = deref(n)
	var b bool
	if n == nil || n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, problemAt(n, "must be true or false")
	}
	return b, nil
}

// Building the proposal file, in order.

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func mapping(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Content = append(m.Content, str(kv[i].(string)), node(kv[i+1]))
	}
	return m
}

func flow(n *yaml.Node) *yaml.Node { n.Style = yaml.FlowStyle; return n }

func node(v any) *yaml.Node {
	switch x := v.(type) {
	case *yaml.Node:
		return x
	case string:
		return str(x)
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(x)}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(x)}
	case []string:
		s := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, e := range x {
			s.Content = append(s.Content, str(e))
		}
		return s
	}
	panic(fmt.Sprintf("glean: cannot build a YAML node of %T", v))
}

// Problem is a finding with its file and line.
type Problem = registry.Problem
