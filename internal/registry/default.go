package registry

import (
	_ "embed"
	"errors"
	"strings"
)

// DefaultYAML is the example registry built into the binary.
//
//go:embed default.yaml
var DefaultYAML []byte

// Default loads the built-in example registry.
func Default() (*Registry, error) {
	r, probs := Parse(DefaultYAML, "built-in example registry")
	if len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.String()
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	return r, nil
}
