package registry

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
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

// BuiltinName labels the built-in example registry in messages.
const BuiltinName = "built-in example registry"

// ReadFile reads a registry file, or the built-in example when path is
// empty, and returns its text and a name for messages.
func ReadFile(path string) ([]byte, string, error) {
	if path == "" {
		return DefaultYAML, BuiltinName, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, path, fmt.Errorf("--registry: %w", err)
	}
	return b, path, nil
}

// LoadFile lints a registry file (or the built-in example) for the
// commands that read it without a store. Expired datasets load (a server
// answers 410 for them); other problems fail.
func LoadFile(path string, now time.Time) (*Registry, error) {
	data, name, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	reg, problems := ParseWith(data, name, Options{Now: now, AllowExpired: true})
	if len(problems) > 0 {
		return nil, &ProblemsError{Source: name, Problems: problems}
	}
	return reg, nil
}
