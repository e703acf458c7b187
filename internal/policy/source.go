package policy

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/steward-privacy/steward/internal/registry"
)

// Source is the read policy in force: the policy text bound to the
// registry version in force. The text is linted again whenever the
// registry changes, because rules name datasets and cap categories that a
// new version may change.
type Source struct {
	data  []byte
	name  string
	empty bool // grants nothing, whatever the registry
	regs  *registry.Source
	log   *slog.Logger
	cur   atomic.Pointer[bound]
}

type bound struct {
	reg *registry.Registry
	pol *Policy
}

// NewSource binds policy text to a registry source.
func NewSource(data []byte, name string, regs *registry.Source, log *slog.Logger) *Source {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{data: data, name: name, regs: regs, log: log}
}

// LoadSource reads the read policy file and checks it against the start-up
// registry. Without a file, the built-in policy governs the built-in
// registry; a custom registry without a policy gets one that grants
// nothing, so no read happens by accident.
func LoadSource(path string, builtinRegistry bool, start *registry.Registry, regs *registry.Source, log *slog.Logger) (*Source, error) {
	var data []byte
	name := "built-in policy"
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		data, name = b, path
	case builtinRegistry:
		data = DefaultYAML
	default:
		log.Warn("no read policy given (--policy): every read of collected data will be refused")
		return EmptySource("no policy"), nil
	}
	if _, problems := Parse(data, name, start); len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, p := range problems {
			lines[i] = p.String()
		}
		return nil, fmt.Errorf("read policy has %d problem(s):\n%s", len(problems), strings.Join(lines, "\n"))
	}
	return NewSource(data, name, regs, log), nil
}

// EmptySource grants nothing (a custom registry given without a policy).
func EmptySource(name string) *Source { return &Source{name: name, empty: true} }

// StaticSource is a source for one already parsed policy (tests).
func StaticSource(p *Policy) *Source {
	s := &Source{name: p.Source}
	s.cur.Store(&bound{pol: p})
	return s
}

// Current is the policy for the registry in force. A policy that no longer
// lints against a newly published registry refuses every read until it is
// fixed: failing closed is the only safe reading of a rule that names a
// dataset that changed under it.
func (s *Source) Current() *Policy {
	if s.empty {
		return Empty(s.name)
	}
	if s.regs == nil {
		return s.cur.Load().pol
	}
	reg := s.regs.Current()
	if b := s.cur.Load(); b != nil && b.reg == reg {
		return b.pol
	}
	p, problems := Parse(s.data, s.name, reg)
	if len(problems) > 0 {
		s.log.Error("read policy does not fit the registry in force; every read is refused until it does",
			"registry", reg.Source, "problems", problemText(problems))
		p = Empty(s.name + " (does not fit " + reg.Source + ")")
	}
	s.cur.Store(&bound{reg: reg, pol: p})
	return p
}

// For is the policy as it governs reg, which need not be the version in
// force: an older version (the notice's history) or a proposed one (the
// data collection review). Rules naming a dataset reg does not declare are
// left out, since they govern nothing there; a text with any other problem
// grants nothing, as Current would. For the registry in force, Current is
// what reads obey.
func (s *Source) For(reg *registry.Registry) *Policy {
	switch {
	case s.empty:
		return Empty(s.name)
	case s.regs == nil:
		return s.cur.Load().pol
	case reg == s.regs.Current():
		return s.Current()
	}
	p, problems := parse(s.data, s.name, reg, true)
	if len(problems) > 0 {
		return Empty(s.name + " (does not fit " + reg.Source + ")")
	}
	return p
}

// Check is a registry publish check: a version the policy does not lint
// against is refused before it is stored.
func (s *Source) Check(reg *registry.Registry) error {
	if s.empty || s.regs == nil {
		return nil
	}
	if _, problems := Parse(s.data, s.name, reg); len(problems) > 0 {
		return fmt.Errorf("the read policy %s does not fit this registry: %s", s.name, problemText(problems))
	}
	return nil
}

func problemText(ps []Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}
