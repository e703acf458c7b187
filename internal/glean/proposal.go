package glean

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-privacy/steward/internal/registry"
)

// Proposal is the registry file to propose: base (the registry in force,
// or the file it will replace) with the imported datasets added, or
// replacing the datasets of the same names, and a review: section with the
// title, the links (bugs and data reviews) and the owners (notification
// e-mails). It lints as any registry (an unclassified field included).
func Proposal(base []byte, res *Result, appID string, now time.Time) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("the base registry is not valid YAML: %v", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the base registry is not a registry (a mapping with controller and datasets)")
	}
	top := doc.Content[0]
	datasets := lookup(top, "datasets")
	if datasets == nil {
		datasets = &yaml.Node{Kind: yaml.MappingNode}
		top.Content = append(top.Content, str("datasets"), datasets)
	}
	if datasets.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the base registry's datasets is not a mapping")
	}
	for i := 0; i+1 < len(res.Datasets.Content); i += 2 {
		set(datasets, res.Datasets.Content[i].Value, res.Datasets.Content[i+1])
	}
	links := []string{}
	for _, l := range res.Links {
		if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
			links = append(links, l)
		}
	}
	rv := mapping("title", fmt.Sprintf("Glean import: %s (%d metrics in %d pings)", appID, res.Metrics, len(res.Names)),
		"links", links, "owners", res.Owners)
	set(top, "review", rv)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if _, probs := registry.ParseWith(b.Bytes(), "proposal", registry.Options{Now: now}); len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	return b.Bytes(), nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, str(key), v)
}
