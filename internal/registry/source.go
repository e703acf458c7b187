package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// DefaultPollEvery is how often a node asks the store whether a newer
// registry version was published elsewhere. The question is one indexed
// MAX() (BenchmarkRegistryHead: tens of microseconds), so two seconds costs
// nothing and bounds how long a publish takes to reach every node.
const DefaultPollEvery = 2 * time.Second

// Source is the registry in force. Every component reads Current() when it
// needs the registry, never a copy kept from start-up, so a version
// published on any node sharing the database takes effect everywhere
// without a restart.
type Source struct {
	versions store.RegistryVersions // nil for a Static source
	now      func() time.Time
	log      *slog.Logger

	cur atomic.Pointer[version]
	mu  sync.Mutex // serialises publish and refresh
	// checks run against a candidate before it is published (e.g. the read
	// policy must still lint against it).
	checks []func(*Registry) error
}

type version struct {
	number int64
	reg    *Registry
}

// Static is a source that never changes (tests, lint commands).
func Static(r *Registry) *Source {
	s := &Source{now: time.Now}
	s.cur.Store(&version{reg: r})
	return s
}

// NewSource reads versions from the store; call Publish or Refresh before
// Current. now is the clock expiry is judged by.
func NewSource(versions store.RegistryVersions, now func() time.Time, log *slog.Logger) *Source {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{versions: versions, now: now, log: log}
}

// Current is the registry in force. It is nil only before the first
// Publish or Refresh of a stored source.
func (s *Source) Current() *Registry {
	if v := s.cur.Load(); v != nil {
		return v.reg
	}
	return nil
}

// Version is the number of the version in force (0 for a Static source).
func (s *Source) Version() int64 {
	if v := s.cur.Load(); v != nil {
		return v.number
	}
	return 0
}

// UseUnstored puts r in force without storing it, for a store that holds
// no version yet (a command run before the first `steward serve`). A later
// Refresh replaces it with any stored version.
func (s *Source) UseUnstored(r *Registry) {
	s.cur.Store(&version{reg: r})
}

// Check adds a test every version must pass before it is published here.
func (s *Source) Check(f func(*Registry) error) {
	s.mu.Lock()
	s.checks = append(s.checks, f)
	s.mu.Unlock()
}

// Approval says who or what approved a version, and how it came to be.
type Approval struct {
	By   string
	Note string
	// IfChanged stores nothing when the newest version has the same text
	// (a restart with the same --registry file).
	IfChanged bool
	// Proposal is the review that approved it, if any.
	Proposal int64
}

// ProblemsError is a registry that does not lint.
type ProblemsError struct {
	Source   string
	Problems []Problem
}

func (e *ProblemsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("registry has %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// Publish lints data, runs the checks, stores it as the next version and
// puts it in force on this node; other nodes follow within their poll
// interval. name labels data in lint messages (a file name).
func (s *Source) Publish(ctx context.Context, data []byte, name string, a Approval) (store.RegistryVersion, bool, error) {
	if s.versions == nil {
		return store.RegistryVersion{}, false, errors.New("this registry is fixed and cannot be published to")
	}
	reg, rec, err := s.Prepare(data, name, a)
	if err != nil {
		return rec, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, added, err := s.versions.AddRegistryVersion(ctx, rec, a.IfChanged)
	if err != nil {
		return v, false, err
	}
	if !added {
		// The stored text is this text; load it under its version's name.
		return v, false, s.install(v)
	}
	s.put(v, reg)
	return v, true, nil
}

// Prepare lints data and runs the checks, and returns the registry with the
// record to store for it (without its number). A review stores the record
// in the transaction that approves it (store.Tx.PublishRegistryVersion),
// then calls Installed.
func (s *Source) Prepare(data []byte, name string, a Approval) (*Registry, store.RegistryVersion, error) {
	reg, problems := ParseWith(data, name, Options{Now: s.now(), AllowExpired: true})
	if len(problems) > 0 {
		return nil, store.RegistryVersion{}, &ProblemsError{Source: name, Problems: problems}
	}
	if a.By != "" {
		if probs := Unclassified(reg); len(probs) > 0 {
			return nil, store.RegistryVersion{}, &ProblemsError{Source: name, Problems: probs}
		}
	}
	s.mu.Lock()
	checks := s.checks
	s.mu.Unlock()
	for _, check := range checks {
		if err := check(reg); err != nil {
			return nil, store.RegistryVersion{}, err
		}
	}
	sum := sha256.Sum256(data)
	return reg, store.RegistryVersion{
		YAML: data, Digest: hex.EncodeToString(sum[:]), Fingerprints: Fingerprints(reg),
		ApprovedBy: a.By, Note: a.Note, Proposal: a.Proposal, CreatedAt: s.now().UTC(),
	}, nil
}

// Installed puts reg, stored as version number, in force here (unless a
// newer version already is).
func (s *Source) Installed(v store.RegistryVersion, reg *Registry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.cur.Load(); cur != nil && cur.number >= v.Version {
		return
	}
	s.put(v, reg)
}

func (s *Source) put(v store.RegistryVersion, reg *Registry) {
	reg.Source = versionName(v)
	s.cur.Store(&version{number: v.Version, reg: reg})
}

// Refresh puts the store's newest version in force if it is newer than the
// one here, and reports whether it did.
func (s *Source) Refresh(ctx context.Context) (bool, error) {
	if s.versions == nil {
		return false, nil
	}
	head, err := s.versions.RegistryHead(ctx)
	if err != nil {
		return false, err
	}
	if head == 0 {
		return false, store.ErrNotFound
	}
	if head <= s.Version() {
		return false, nil
	}
	v, err := s.versions.GetRegistryVersion(ctx, head)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v.Version <= s.Version() {
		return false, nil
	}
	if err := s.install(v); err != nil {
		return false, err
	}
	return true, nil
}

// install parses a stored version and puts it in force. A stored version
// was linted when it was published; it can fail here only if this binary
// is older than the one that published it, and then the node keeps the
// version it has rather than collect under a registry it cannot read.
func (s *Source) install(v store.RegistryVersion) error {
	reg, problems := ParseWith(v.YAML, versionName(v), Options{Now: s.now(), AllowExpired: true})
	if len(problems) > 0 {
		return &ProblemsError{Source: versionName(v), Problems: problems}
	}
	if cur := s.cur.Load(); cur != nil && cur.number >= v.Version && cur.number != 0 {
		return nil
	}
	s.cur.Store(&version{number: v.Version, reg: reg})
	return nil
}

// Watch polls the store every interval until ctx ends, so a version
// published on another node takes effect here.
func (s *Source) Watch(ctx context.Context, every time.Duration) {
	if s.versions == nil {
		return
	}
	if every <= 0 {
		every = DefaultPollEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := s.Refresh(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("registry: cannot read the newest version; keeping the one in force", "version", s.Version(), "err", err)
		case changed:
			s.log.Info("registry: a new version is in force", "version", s.Version(), "datasets", len(s.Current().Datasets))
		}
	}
}

func versionName(v store.RegistryVersion) string {
	return fmt.Sprintf("registry version %d", v.Version)
}

// Fingerprints lists the fingerprint of every dataset ("name") and field
// ("dataset.field") of r: what a version records as approved.
func Fingerprints(r *Registry) map[string]string {
	out := make(map[string]string)
	for _, d := range r.Datasets {
		out[d.Name] = d.Fingerprint()
		for _, f := range d.Fields {
			out[d.Name+"."+f.Name] = f.Fingerprint()
		}
	}
	return out
}

// Digest is the hex SHA-256 of a registry text, as a version stores it.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// InForce returns the number of the version in force and its registry
// together, read at one instant (Version and Current read separately may
// straddle a refresh).
func (s *Source) InForce() (int64, *Registry) {
	if v := s.cur.Load(); v != nil {
		return v.number, v.reg
	}
	return 0, nil
}

// Unclassified lists the fields that have no category yet: a version
// holding one is never approved, so a person must assign each first.
func Unclassified(r *Registry) []Problem {
	var out []Problem
	for _, d := range r.Datasets {
		for _, f := range d.Fields {
			if f.Unclassified {
				out = append(out, Problem{Source: r.Source, Line: f.Line, Message: fmt.Sprintf(
					"datasets.%s.fields.%s.category: unclassified; a person must assign its category (1-4) in review before it can be approved", d.Name, f.Name)})
			}
		}
	}
	return out
}
