package notice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// Service is the notice of the registry in force and its history. Notices
// are kept in memory per registry version (a stored version never
// changes), so the notice is built once per version and served from
// memory after that.
//
// Notice versions are derived from the registry's, not stored: each stored
// registry version whose notice differs from the one before it starts a
// new notice version, dated when that registry version was approved. The
// read policy, the connectors and the consent signals are start-up
// settings that steward does not version; the history shows every
// registry version as the settings in force now make it read.
type Service struct {
	Registry *registry.Source
	Policy   *policy.Source
	// Versions are the stored registry versions; nil gives a history of
	// one version, the registry in force.
	Versions store.RegistryVersions
	// Settings are the inputs besides the registry and the policy.
	Settings Inputs
	// Measures feed the records of processing.
	Measures Measures
	Log      *slog.Logger

	mu sync.Mutex
	// byRegistry holds the notice of every registry version seen.
	byRegistry map[int64]*Notice
	// history holds the notice versions derived from registry versions 1
	// to upTo, oldest first.
	history []Version
	upTo    int64
	// unstored is the notice of a registry in force that was never
	// stored (a command run before the first serve, a test).
	unstored    *Notice
	unstoredReg *registry.Registry
}

// Version is one version of the notice.
type Version struct {
	// Number counts notice versions from 1.
	Number int
	// Registry is the registry version that made this notice version;
	// Since is when that version was approved (zero for a registry that
	// was never stored).
	Registry int64
	Since    time.Time
	Notice   *Notice
	// Changes are what changed from the previous version (none for the
	// first).
	Changes []Change
}

// Build makes the notice reg would give under the read policy, roles,
// connectors and consent settings in force: the notice of a proposed
// registry (the data collection review compares it with Current's
// notice using Diff) or of an older version. reg need not be stored.
func (s *Service) Build(reg *registry.Registry) (*Notice, error) {
	if reg == nil {
		return nil, errors.New("notice: no registry")
	}
	in := s.Settings
	in.Registry, in.Policy = reg, s.Policy.For(reg)
	return Build(in)
}

// Current is the notice version in force.
func (s *Service) Current(ctx context.Context) (Version, error) {
	h, err := s.History(ctx)
	if err != nil {
		return Version{}, err
	}
	return h[len(h)-1], nil
}

// History lists every notice version, oldest first, up to the one in
// force. The first call reads every stored registry version; later calls
// read only versions published since.
func (s *Service) History(ctx context.Context) ([]Version, error) {
	num, reg := s.Registry.InForce()
	if reg == nil {
		return nil, errors.New("notice: no registry is in force yet")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byRegistry == nil {
		s.byRegistry = map[int64]*Notice{}
	}
	if s.Versions == nil || num == 0 {
		// An unstored registry: a history of one version, itself.
		n, err := s.noticeOf(0, reg)
		if err != nil {
			return nil, err
		}
		return []Version{{Number: 1, Notice: n}}, nil
	}
	if num > s.upTo {
		if err := s.extend(ctx, num, reg); err != nil {
			return nil, err
		}
	}
	// A node may briefly be behind versions another node already showed
	// it (never the other way): show the history up to its own version.
	end := len(s.history)
	for end > 1 && s.history[end-1].Registry > num {
		end--
	}
	if end == 0 {
		return nil, fmt.Errorf("notice: no notice for registry version %d", num)
	}
	return s.history[:end:end], nil
}

// extend derives the notice versions of registry versions upTo+1 … num.
func (s *Service) extend(ctx context.Context, num int64, inForce *registry.Registry) error {
	list, err := s.Versions.ListRegistryVersions(ctx)
	if err != nil {
		return fmt.Errorf("notice: registry versions: %w", err)
	}
	for _, v := range list {
		if v.Version <= s.upTo || v.Version > num {
			continue
		}
		reg := inForce
		if v.Version != num {
			if reg, err = s.parse(ctx, v.Version); err != nil {
				// A version this binary cannot read (an older steward
				// stored it under rules since changed) makes no notice
				// version; the next one that reads is compared with the
				// last that did.
				s.log().Warn("notice: skipping a registry version that does not parse", "version", v.Version, "err", err)
				continue
			}
		}
		n, err := s.noticeOf(v.Version, reg)
		if err != nil {
			return err
		}
		if len(s.history) == 0 {
			s.history = append(s.history, Version{Number: 1, Registry: v.Version, Since: v.CreatedAt, Notice: n})
			continue
		}
		last := s.history[len(s.history)-1]
		if changes := Diff(last.Notice, n); len(changes) > 0 {
			s.history = append(s.history, Version{Number: last.Number + 1, Registry: v.Version, Since: v.CreatedAt,
				Notice: n, Changes: changes})
		}
	}
	s.upTo = num
	if len(s.history) == 0 {
		return fmt.Errorf("notice: no stored registry version up to %d could be read", num)
	}
	return nil
}

func (s *Service) parse(ctx context.Context, version int64) (*registry.Registry, error) {
	v, err := s.Versions.GetRegistryVersion(ctx, version)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("registry version %d", version)
	reg, problems := registry.ParseWith(v.YAML, name, registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		return nil, &registry.ProblemsError{Source: name, Problems: problems}
	}
	return reg, nil
}

// noticeOf builds the notice of a registry version once. An unstored
// registry (version 0) is kept by identity: Source hands out the same
// *Registry until another is put in force.
func (s *Service) noticeOf(version int64, reg *registry.Registry) (*Notice, error) {
	if version == 0 && s.unstored != nil && s.unstoredReg == reg {
		return s.unstored, nil
	}
	if n := s.byRegistry[version]; n != nil && version != 0 {
		return n, nil
	}
	n, err := s.Build(reg)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		s.unstored, s.unstoredReg = n, reg
	} else {
		s.byRegistry[version] = n
	}
	return n, nil
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}
