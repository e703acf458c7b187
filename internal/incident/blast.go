package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// Sources a blast radius is computed from.
const (
	// BlastAccessLog: what a credential or a dataset's readers were
	// given, from the access log.
	BlastAccessLog = "access_log"
	// BlastEventStore: the store itself leaked, so everything it held of
	// a dataset was reached.
	BlastEventStore = "event_store"
)

// MaxWindow bounds a blast radius's window: a longer one is more likely a
// typing mistake than a breach, and would read a year's log.
const MaxWindow = 400 * 24 * time.Hour

// WindowInput is the window (and what it is about) a person sets for an
// incident's blast radius. Empty fields are taken from the blast radius
// computed before, else from the incident: its credential (else its
// dataset), from its t_l to now.
type WindowInput struct {
	From, To   time.Time
	Credential string
	Dataset    string
	Source     string
	// Version, when non-zero, is the version the person read.
	Version int64
}

// SetWindow computes the incident's blast radius for the window and
// stores it with the window, replacing the one before, with a history
// line and an access-log entry in the same transaction. Bad input changes
// nothing.
func (s *Service) SetWindow(ctx context.Context, id int64, a Actor, in WindowInput) (store.Incident, error) {
	if !slices.Contains(Managers, a.Role) {
		return store.Incident{}, fmt.Errorf("%w: role %s may not set an incident's window", ErrForbidden, a.Role)
	}
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return inc, err
	}
	if in.Version != 0 && in.Version != inc.Version {
		return inc, store.ErrConflict
	}
	return s.setWindow(ctx, inc, a, in)
}

func (s *Service) setWindow(ctx context.Context, inc store.Incident, a Actor, in WindowInput) (store.Incident, error) {
	q, err := s.windowQuery(ctx, inc, in)
	if err != nil {
		return inc, err
	}
	b, err := s.computeBlast(ctx, q)
	if err != nil {
		return inc, err
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return inc, err
	}
	note := blastNote(b)
	if prev, ok := BlastOf(inc); ok {
		note += fmt.Sprintf(" (replaces %d people, %d records for %s)", prev.Subjects, prev.Records, span(prev.From, prev.To))
	}
	now := s.now()
	also := func(ctx context.Context, tx store.Tx, i *store.Incident) error {
		i.WindowFrom, i.WindowTo, i.Blast = b.From, b.To, raw
		// A stored assessment follows the new facts: pre-scores and the
		// factors nobody adjusted move, adjustments and the decision stay.
		if sev, ok := SeverityOf(*i); ok {
			sev = Reprice(sev, *i, b, true)
			if i.Severity, err = json.Marshal(sev); err != nil {
				return err
			}
		}
		return appendEntries(ctx, tx, actionEntry(now, a, *i, note))
	}
	return s.machine().NoteAlso(ctx, inc, a.Name, note, also)
}

// DefaultBlasts gives each open incident that names a credential or a
// dataset and has no blast radius yet one from its t_l to now, as the
// monitor (the clocks' ticker runs it, so an incident the monitor opens
// has its radius within a tick). The window then stays as set: a person
// widens it with SetWindow while the breach goes on. An incident whose
// default is not a valid window (no t_l, a dataset the registry never
// had, more than MaxWindow) is left for a person.
func (s *Service) DefaultBlasts(ctx context.Context) error {
	list, err := s.Store.ListIncidents(ctx, store.IncidentQuery{States: Open, Limit: 1000})
	if err != nil {
		return err
	}
	for _, inc := range list {
		if len(inc.Blast) > 0 || (inc.Credential == "" && inc.Dataset == "") || inc.LeakAt.IsZero() {
			continue
		}
		_, err := s.setWindow(ctx, inc, monitorActor, WindowInput{})
		switch {
		case errors.Is(err, ErrInvalid):
			s.log().Debug("incident: no default blast radius", "incident", inc.ID, "why", err)
		case errors.Is(err, store.ErrConflict):
			// A person changed it meanwhile; the next tick looks again.
		case err != nil:
			return err
		}
	}
	return nil
}

// blastQuery is a validated window with what it is about.
type blastQuery struct {
	credential, dataset, source string
	from, to                    time.Time
}

func (s *Service) windowQuery(ctx context.Context, inc store.Incident, in WindowInput) (blastQuery, error) {
	prev, hasPrev := BlastOf(inc)
	q := blastQuery{source: strings.TrimSpace(in.Source), credential: strings.TrimSpace(in.Credential), dataset: strings.TrimSpace(in.Dataset)}
	if q.source == "" {
		q.source = BlastAccessLog
		if hasPrev && prev.Source != "" {
			q.source = prev.Source
		}
	}
	if q.credential == "" && q.dataset == "" {
		switch {
		case hasPrev:
			q.credential, q.dataset = prev.Credential, prev.Dataset
		case inc.Credential != "":
			q.credential = inc.Credential
		default:
			q.dataset = inc.Dataset
		}
	}
	q.from, q.to = in.From.UTC(), in.To.UTC()
	if in.From.IsZero() {
		q.from = inc.WindowFrom
		if q.from.IsZero() {
			q.from = inc.LeakAt
		}
	}
	now := s.now()
	if in.To.IsZero() {
		q.to = inc.WindowTo
		if q.to.IsZero() {
			q.to = now
		}
	}
	// Both backends keep microseconds; the stored window is the one asked.
	q.from, q.to = q.from.Truncate(time.Microsecond), q.to.Truncate(time.Microsecond)
	switch q.source {
	case BlastAccessLog:
	case BlastEventStore:
		if strings.TrimSpace(in.Credential) != "" {
			return q, invalid("credential: the event store is counted by dataset; leave credential out with source event_store")
		}
		q.credential = ""
		if q.dataset == "" {
			q.dataset = inc.Dataset
		}
		if q.dataset == "" {
			return q, invalid("dataset: source event_store needs the dataset whose store leaked")
		}
	default:
		return q, invalid("source: %q is neither %s nor %s", q.source, BlastAccessLog, BlastEventStore)
	}
	switch {
	case q.from.IsZero():
		return q, invalid("from: give the window's start; the incident has no time the breach began (t_l)")
	case !q.from.Before(q.to):
		return q, invalid("window: from (%s) must be before to (%s)", stamp(q.from), stamp(q.to))
	case q.to.After(now):
		return q, invalid("to: the window cannot end in the future (now is %s)", stamp(now))
	case q.to.Sub(q.from) > MaxWindow:
		return q, invalid("window: at most %d days, not %.0f", int(MaxWindow/(24*time.Hour)), q.to.Sub(q.from).Hours()/24)
	case q.credential == "" && q.dataset == "":
		return q, invalid("credential or dataset: the incident names neither; say whose accesses or which dataset the blast radius covers")
	case len(q.credential) > 500:
		return q, invalid("credential: at most 500 characters")
	}
	if _, _, ok := store.SplitCredential(q.credential); q.credential != "" && !ok {
		return q, invalid("credential: %q is not method:id as the monitor names credentials (e.g. token:tk_123, pgaudit:app_role)", q.credential)
	}
	if q.dataset != "" && !(q.source == BlastAccessLog && strings.HasPrefix(q.dataset, "@")) {
		known, err := s.knownDataset(ctx, q.dataset)
		if err != nil {
			return q, err
		}
		if !known {
			return q, invalid("dataset: no dataset %q in any registry version", q.dataset)
		}
	}
	return q, nil
}

// knownDataset: a dataset the registry holds or held (a breach may
// concern one removed since).
func (s *Service) knownDataset(ctx context.Context, name string) (bool, error) {
	if reg := s.Registry.Current(); reg != nil && reg.Dataset(name) != nil {
		return true, nil
	}
	vs, err := s.registries(ctx)
	if err != nil {
		return false, err
	}
	for _, v := range vs.list {
		if r := vs.at(ctx, v.Version); r != nil && r.Dataset(name) != nil {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) computeBlast(ctx context.Context, q blastQuery) (BlastRadius, error) {
	var res store.BlastResult
	var err error
	if q.source == BlastEventStore {
		res, err = s.Store.EventBlastRadius(ctx, store.EventBlastQuery{Dataset: q.dataset, From: q.from, To: q.to, KeysCap: SubjectKeysCap})
	} else {
		res, err = s.Store.BlastRadius(ctx, store.BlastQuery{Credential: q.credential, Dataset: q.dataset, From: q.from, To: q.to, KeysCap: SubjectKeysCap})
	}
	if err != nil {
		return BlastRadius{}, err
	}
	vs, err := s.registries(ctx)
	if err != nil {
		return BlastRadius{}, err
	}
	b := BlastRadius{Credential: q.credential, Dataset: q.dataset, Source: q.source, From: q.from, To: q.to,
		Entries: res.Entries, Records: res.Records, Subjects: res.Subjects, SubjectKeys: res.SubjectKeys,
		KeysTruncated: res.KeysTruncated, Datasets: []BlastDataset{}, Categories: []int{}, SubjectKinds: []string{}, ComputedAt: s.now()}
	for _, c := range res.Datasets {
		d := BlastDataset{Name: c.Dataset, Entries: c.Entries, Records: c.Records, Subjects: c.Subjects, Fields: []BlastField{}}
		if q.source == BlastAccessLog && rowsUnknown(q.credential) && c.Entries > 0 {
			if err := s.boundByStore(ctx, &b, &d, c.Last); err != nil {
				return BlastRadius{}, err
			}
		}
		vs.describe(ctx, &d, c.First, c.Last)
		for _, f := range d.Fields {
			b.Categories = append(b.Categories, f.Category)
		}
		if d.SubjectKind != "" {
			b.SubjectKinds = append(b.SubjectKinds, d.SubjectKind)
		}
		b.Datasets = append(b.Datasets, d)
	}
	slices.Sort(b.Categories)
	b.Categories = slices.Compact(b.Categories)
	slices.Sort(b.SubjectKinds)
	b.SubjectKinds = slices.Compact(b.SubjectKinds)
	return b, nil
}

// rowsUnknown: the credential's entries do not say which rows a read
// returned. pgaudit logs a statement on a table, not its rows.
func rowsUnknown(credential string) bool {
	method, _, _ := store.SplitCredential(credential)
	return method == "pgaudit"
}

// boundByStore counts, for a dataset read by a credential whose rows are
// not known, everything the dataset held at its last read (events
// received up to then and still held): who could have been read. The
// totals take it in; keys join the list (de-duplicated) so the people can
// be told.
func (s *Service) boundByStore(ctx context.Context, b *BlastRadius, d *BlastDataset, last time.Time) error {
	held, err := s.Store.EventBlastRadius(ctx, store.EventBlastQuery{Dataset: d.Name, From: time.Unix(0, 0).UTC(), To: last.Add(time.Microsecond),
		KeysCap: SubjectKeysCap})
	if err != nil {
		return err
	}
	d.Records, d.Subjects, d.UpperBound = held.Records, held.Subjects, true
	b.Records += held.Records // the log holds no rows for these entries
	b.UpperBound = true
	keys := append(b.SubjectKeys, held.SubjectKeys...)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	b.KeysTruncated = b.KeysTruncated || held.KeysTruncated || len(keys) > SubjectKeysCap
	if len(keys) > SubjectKeysCap {
		keys = keys[:SubjectKeysCap]
	}
	// Counts from two sources cannot be de-duplicated past the cap, so the
	// total is at most their sum and at least the keys known.
	b.Subjects = max(int64(len(keys)), b.Subjects+held.Subjects)
	if !b.KeysTruncated {
		b.Subjects = int64(len(keys))
	}
	b.SubjectKeys = keys
	return nil
}

// versions is the registry's history, each version parsed once.
type versions struct {
	s      *Service
	list   []store.RegistryVersion // oldest first
	parsed map[int64]*registry.Registry
}

func (s *Service) registries(ctx context.Context) (*versions, error) {
	list, err := s.Store.ListRegistryVersions(ctx)
	if err != nil {
		return nil, err
	}
	return &versions{s: s, list: list, parsed: map[int64]*registry.Registry{}}, nil
}

// at is version v parsed; nil when it no longer parses.
func (vs *versions) at(ctx context.Context, v int64) *registry.Registry {
	if r, ok := vs.parsed[v]; ok {
		return r
	}
	var reg *registry.Registry
	if full, err := vs.s.Store.GetRegistryVersion(ctx, v); err == nil {
		r, problems := registry.ParseWith(full.YAML, fmt.Sprintf("registry version %d", v), registry.Options{AllowExpired: true})
		if len(problems) == 0 {
			reg = r
		}
	}
	vs.parsed[v] = reg
	return reg
}

// inForce are the registries in force at some time in [first, last], as
// the monitor judges a time (the newest version stored by then; before
// the first, the oldest), oldest first. Without stored versions it is the
// one in force now.
func (vs *versions) inForce(ctx context.Context, first, last time.Time) []*registry.Registry {
	if len(vs.list) == 0 {
		if r := vs.s.Registry.Current(); r != nil {
			return []*registry.Registry{r}
		}
		return nil
	}
	idx := func(t time.Time) int {
		return max(sort.Search(len(vs.list), func(i int) bool { return vs.list[i].CreatedAt.After(t) })-1, 0)
	}
	var out []*registry.Registry
	for i := idx(first); i <= idx(last); i++ {
		if r := vs.at(ctx, vs.list[i].Version); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// describe fills d's owner, subject kind and fields from the registry
// versions in force over its accesses. The access log does not say which
// fields a read returned, so every field the dataset held counts: an
// upper bound. A field whose category changed counts at its highest.
func (vs *versions) describe(ctx context.Context, d *BlastDataset, first, last time.Time) {
	cat := map[string]int{}
	var names []string
	add := func(name string, f *registry.Field) {
		c := int(f.Category)
		if f.Unclassified {
			c = 4 // as the registry counts an unclassified field
		}
		if old, ok := cat[name]; !ok {
			names = append(names, name)
			cat[name] = c
		} else if c > old {
			cat[name] = c
		}
	}
	for _, r := range vs.inForce(ctx, first, last) {
		ds := r.Dataset(d.Name)
		if ds == nil {
			continue
		}
		// The latest version's owner and subject are who is told now.
		d.Owner = ds.Owner
		if ds.Subject != nil {
			d.SubjectKind = ds.Subject.Kind
		}
		// Top-level fields: an object's members share its category.
		for _, f := range ds.Fields {
			add(f.Name, f)
		}
	}
	for _, n := range names {
		d.Fields = append(d.Fields, BlastField{Name: n, Category: cat[n]})
	}
}

func span(from, to time.Time) string { return stamp(from) + " to " + stamp(to) }

func blastNote(b BlastRadius) string {
	about := "credential " + b.Credential
	switch {
	case b.Credential != "" && b.Dataset != "":
		about += " in dataset " + b.Dataset
	case b.Credential == "":
		about = "dataset " + b.Dataset
	}
	src := "access log"
	if b.Source == BlastEventStore {
		src = "event store"
	}
	bound := ""
	if b.UpperBound {
		bound = "; an upper bound: the rows a database role read are not known, so what its tables held is counted"
	}
	return fmt.Sprintf("blast radius for %s: %d people, %d records in %d datasets (%s, from the %s%s)",
		span(b.From, b.To), b.Subjects, b.Records, len(b.Datasets), about, src, bound)
}
