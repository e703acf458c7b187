package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// MonitorName names the monitor's position and lease rows.
const MonitorName = "breach"

// Monitor checks every access-log entry once, in order: against the read
// policy in force when the access happened, the state of its credential
// at that time, the chain, and the credential's usual volume. What it
// finds opens (or joins) incidents in the same transaction that moves its
// position, so a crash at any point neither skips nor repeats an entry.
type Monitor struct {
	Service *Service
	Policy  *policy.Source
	// Holder names this node for the lease; only the holder checks.
	Holder string
	// Lease is how long a node holds the monitor after its last round;
	// another takes over when it runs out (default 30 s).
	Lease time.Duration
	// Batch bounds the entries of one round (default 1000).
	Batch int
	// PerHour, when positive, flags a credential that reads more subjects
	// than this within one clock hour.
	PerHour int64
	// Factor flags a credential reading more than Factor times its own
	// hourly mean (default 10), once it has BaselineHours hours of history
	// (default 24) and at least MinSubjects subjects that hour (default 100).
	Factor        float64
	BaselineHours int
	MinSubjects   int64

	versions []store.RegistryVersion
	policies map[int64]*policy.Policy
	wakeOnce sync.Once
	wake     chan struct{}
}

func (m *Monitor) wakeCh() chan struct{} {
	m.wakeOnce.Do(func() { m.wake = make(chan struct{}, 1) })
	return m.wake
}

// Wake starts the next round now instead of after the idle wait: the
// access log calls it when entries commit on this node, so an offending
// read opens its incident in milliseconds, not up to a second later.
// Entries other nodes append are found at the next idle round.
func (m *Monitor) Wake() {
	select {
	case m.wakeCh() <- struct{}{}:
	default: // a round is already due
	}
}

// credStat is one credential's volume: subjects in the current hour and
// the mean over its past active hours.
type credStat struct {
	Hour    int64   `json:"h"`
	Count   int64   `json:"c"`
	Mean    float64 `json:"m"`
	Hours   int     `json:"n"`
	Flagged bool    `json:"f,omitempty"`
}

// finding is one offending entry.
type finding struct {
	e             *store.AccessEntry
	source, group string
	title, reason string
	dataset, cred string
}

// Round checks up to Batch entries after the stored position and acts on
// them; it returns how many it checked (0 when caught up or another node
// holds the lease).
func (m *Monitor) Round(ctx context.Context) (int, error) {
	s := m.Service
	now := s.now()
	lease := m.Lease
	if lease <= 0 {
		lease = 30 * time.Second
	}
	held, err := s.Store.TakeLease(ctx, MonitorName, m.Holder, now, lease)
	if err != nil || !held {
		return 0, err
	}
	pos, err := s.Store.GetMonitorPosition(ctx, MonitorName)
	if err != nil {
		return 0, err
	}
	head, err := s.Store.AccessHead(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && head.Seq <= pos.Seq) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	batch := m.Batch
	if batch <= 0 {
		batch = 1000
	}
	upto := min(head.Seq, pos.Seq+int64(batch))
	var entries []*store.AccessEntry
	if err := s.Store.ScanAccess(ctx, pos.Seq, upto, func(e *store.AccessEntry) error {
		c := *e
		entries = append(entries, &c)
		return nil
	}); err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, nil
	}
	chk, err := m.checker(ctx)
	if err != nil {
		return 0, err
	}
	stats := map[string]*credStat{}
	if len(pos.State) > 0 {
		if err := json.Unmarshal(pos.State, &stats); err != nil {
			return 0, fmt.Errorf("monitor state: %w", err)
		}
	}
	prev, next := pos.Hash, pos.Seq+1
	if pos.Seq == 0 {
		prev = accesslog.GenesisHash
	}
	var found []finding
	for _, e := range entries {
		if f, ok := chainBreak(e, prev, next); ok {
			found = append(found, f)
		}
		// Go on from the entry as it stands, so one edit is one finding
		// and not a break of everything after it.
		prev, next = e.Hash, e.Seq+1
		found = append(found, m.check(ctx, chk, e)...)
		if f, ok := m.unusual(stats, e); ok {
			found = append(found, f)
		}
	}
	last := entries[len(entries)-1]
	state, _ := json.Marshal(stats)
	newPos := store.MonitorPosition{Name: MonitorName, Seq: last.Seq, Hash: last.Hash, Checked: pos.Checked + int64(len(entries)), State: state, UpdatedAt: now}
	msgs, err := m.act(ctx, found, newPos, pos.Seq)
	if err != nil {
		return 0, err
	}
	if msgs > 0 && s.Wake != nil {
		s.Wake()
	}
	return len(entries), nil
}

// Run checks until ctx ends: rounds back to back while behind, then one
// every idle.
func (m *Monitor) Run(ctx context.Context, idle time.Duration) {
	if idle <= 0 {
		idle = time.Second
	}
	for ctx.Err() == nil {
		n, err := m.Round(ctx)
		if err != nil && ctx.Err() == nil {
			m.Service.log().Error("breach monitor: round failed; retrying", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-m.wakeCh():
		case <-time.After(idle):
		}
	}
}

// CatchUp runs rounds until the monitor has checked the whole log (for
// tests and `steward incident check`).
func (m *Monitor) CatchUp(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := m.Round(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

func chainBreak(e *store.AccessEntry, prev []byte, next int64) (finding, bool) {
	var why string
	switch {
	case e.Seq != next:
		why = fmt.Sprintf("entries %d to %d are missing (deleted)", next, e.Seq-1)
	case !bytes.Equal(e.PrevHash, prev):
		why = fmt.Sprintf("entry %d does not link to the entry before it (reordered or replaced)", e.Seq)
	case !bytes.Equal(accesslog.ComputeHash(e), e.Hash):
		why = fmt.Sprintf("entry %d does not match its hash (edited)", e.Seq)
	default:
		return finding{}, false
	}
	return finding{e: e, source: SourceIntegrity, group: SourceIntegrity, title: "The access log's chain does not hold",
		reason: why}, true
}

// checker is what the checks read, loaded once per round.
type checker struct {
	tokens map[string]store.Token
	users  map[string]store.User
}

func (m *Monitor) checker(ctx context.Context) (*checker, error) {
	s := m.Service
	vs, err := s.Store.ListRegistryVersions(ctx)
	if err != nil {
		return nil, err
	}
	m.versions = vs
	ts, err := s.Store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	us, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	c := &checker{tokens: map[string]store.Token{}, users: map[string]store.User{}}
	for _, t := range ts {
		c.tokens[t.ID] = t
	}
	for _, u := range us {
		c.users[u.Email] = u
	}
	return c, nil
}

// policyAt is the read policy as it governed the registry version in
// force at at: the newest version stored by then.
func (m *Monitor) policyAt(ctx context.Context, at time.Time) *policy.Policy {
	i := sort.Search(len(m.versions), func(i int) bool { return m.versions[i].CreatedAt.After(at) }) - 1
	if i < 0 {
		if len(m.versions) == 0 {
			return m.Policy.Current()
		}
		i = 0 // before the first version: the oldest one known
	}
	v := m.versions[i].Version
	if p, ok := m.policies[v]; ok {
		return p
	}
	full, err := m.Service.Store.GetRegistryVersion(ctx, v)
	var p *policy.Policy
	if err == nil {
		reg, problems := registry.ParseWith(full.YAML, fmt.Sprintf("registry version %d", v), registry.Options{AllowExpired: true})
		if len(problems) == 0 {
			p = m.Policy.For(reg)
		}
	}
	if p == nil {
		// A version that no longer parses grants nothing, so every read
		// under it is reported rather than passed.
		p = policy.Empty(fmt.Sprintf("registry version %d (unreadable)", v))
	}
	if m.policies == nil {
		m.policies = map[int64]*policy.Policy{}
	}
	m.policies[v] = p
	return p
}

// internalReaders are the roles steward's own screens let read its
// internal datasets (the route table's roles for them).
var internalReaders = map[string][]string{
	"@requests":       {string(auth.Support), string(auth.Admin)},
	"@mailbox":        {string(auth.Support), string(auth.Admin)},
	"@request_export": {"data_subject"},
	"@access_log":     {string(auth.Auditor), string(auth.IncidentManager)},
	Dataset:           {string(auth.IncidentManager), string(auth.Auditor)},
}

func (m *Monitor) check(ctx context.Context, c *checker, e *store.AccessEntry) []finding {
	if e.Decision != accesslog.Allowed {
		// Refused at the door: access control held.
		return nil
	}
	if e.AuthMethod == monitorActor.Method && e.Dataset == Dataset {
		return nil // steward's own record of an incident action
	}
	f := finding{e: e, source: SourcePolicy, dataset: e.Dataset, cred: credential(e)}
	var why []string
	switch e.AuthMethod {
	case "token":
		t, ok := c.tokens[e.CredentialID]
		switch {
		case !ok:
			why = append(why, "the token "+e.CredentialID+" was never issued by steward")
		case !t.RevokedAt.IsZero() && !e.At.Before(t.RevokedAt):
			why = append(why, "the token was revoked at "+stamp(t.RevokedAt))
		case !t.ExpiresAt.IsZero() && !e.At.Before(t.ExpiresAt):
			why = append(why, "the token expired at "+stamp(t.ExpiresAt))
		}
	case "password":
		if u, ok := c.users[strings.ToLower(e.Actor)]; ok && !u.DisabledAt.IsZero() && !e.At.Before(u.DisabledAt) {
			why = append(why, "the account was disabled at "+stamp(u.DisabledAt))
		}
	}
	switch {
	case e.Role == "":
		why = append(why, fmt.Sprintf("%s is mapped to no steward role", e.Actor))
	case strings.HasPrefix(e.Dataset, "@"):
		if roles, ok := internalReaders[e.Dataset]; !ok || !slices.Contains(roles, e.Role) {
			why = append(why, fmt.Sprintf("role %s may not read %s", e.Role, e.Dataset))
		}
	case e.Dataset != "":
		if d := m.policyAt(ctx, e.At).Decide(e.Dataset, auth.Role(e.Role), e.Purpose); !d.Allowed {
			why = append(why, "the policy in force at the time would refuse it: "+d.Reason)
		}
	}
	if len(why) == 0 {
		return nil
	}
	f.reason = strings.Join(why, "; ")
	f.group = SourcePolicy + ":" + f.cred
	f.title = fmt.Sprintf("Access outside policy by %s", e.Actor)
	return []finding{f}
}

func credential(e *store.AccessEntry) string {
	if e.CredentialID != "" {
		return e.AuthMethod + ":" + e.CredentialID
	}
	return e.AuthMethod + ":" + e.Actor
}

func (m *Monitor) unusual(stats map[string]*credStat, e *store.AccessEntry) (finding, bool) {
	if e.Decision != accesslog.Allowed || e.Subjects == 0 || e.Dataset == Dataset {
		return finding{}, false
	}
	key := credential(e)
	st := stats[key]
	if st == nil {
		st = &credStat{}
		stats[key] = st
	}
	hour := e.At.Unix() / 3600
	if hour != st.Hour {
		if st.Count > 0 {
			st.Mean = (st.Mean*float64(st.Hours) + float64(st.Count)) / float64(st.Hours+1)
			st.Hours++
		}
		st.Hour, st.Count, st.Flagged = hour, 0, false
	}
	st.Count += e.Subjects
	if st.Flagged {
		return finding{}, false
	}
	factor, hours, minSubjects := m.Factor, m.BaselineHours, m.MinSubjects
	if factor <= 0 {
		factor = 10
	}
	if hours <= 0 {
		hours = 24
	}
	if minSubjects <= 0 {
		minSubjects = 100
	}
	var why string
	switch {
	case m.PerHour > 0 && st.Count > m.PerHour:
		why = fmt.Sprintf("%s read %d subjects within the hour from %s, more than the threshold of %d", e.Actor, st.Count, stamp(time.Unix(hour*3600, 0)), m.PerHour)
	case st.Hours >= hours && st.Count >= minSubjects && float64(st.Count) > factor*st.Mean:
		why = fmt.Sprintf("%s read %d subjects within the hour from %s, more than %.0f times its usual %.1f an hour", e.Actor, st.Count, stamp(time.Unix(hour*3600, 0)), factor, st.Mean)
	default:
		return finding{}, false
	}
	st.Flagged = true
	return finding{e: e, source: SourceUnusual, group: fmt.Sprintf("%s:%s:%d", SourceUnusual, key, hour), dataset: e.Dataset, cred: key,
		title: "Unusual activity by " + e.Actor, reason: why}, true
}

// act opens or joins incidents for what was found and moves the position,
// in one transaction. An entry belongs to one incident: a finding of the
// same entry that another already claimed is noted in that incident.
func (m *Monitor) act(ctx context.Context, found []finding, pos store.MonitorPosition, from int64) (int, error) {
	s := m.Service
	mach := s.machine()
	now := pos.UpdatedAt
	type recip struct {
		owner    string
		managers []string
	}
	recips := map[string]recip{}
	for _, f := range found {
		if _, ok := recips[f.dataset]; !ok {
			o, ms, err := s.recipients(ctx, f.dataset)
			if err != nil {
				return 0, err
			}
			recips[f.dataset] = recip{o, ms}
		}
	}
	msgs := 0
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		msgs = 0
		open := map[string]*store.Incident{}
		added := map[int64][]store.IncidentAccess{}
		claimed := map[int64]bool{}
		var order []string
		for _, f := range found {
			inc := open[f.group]
			if inc == nil {
				got, err := tx.OpenIncidentByGroup(ctx, f.group, Open)
				switch {
				case err == nil:
					inc = &got
				case errors.Is(err, store.ErrNotFound):
					r := recips[f.dataset]
					created, _, err := mach.CreateIn(ctx, tx, store.Incident{Title: f.title, Source: f.source, GroupKey: f.group,
						State: string(Detected), Credential: f.cred, Dataset: f.dataset, Summary: f.reason, LeakAt: f.e.At.UTC(),
						AwareAt: now, OpenedBy: monitorActor.Name}, monitorActor.Name, "detected at access-log entry "+fmt.Sprint(f.e.Seq)+": "+f.reason)
					if err != nil {
						return err
					}
					out := s.detectionMessages(created, r.owner, r.managers)
					if len(out) > 0 {
						created.OwnerNotifiedAt = now
					}
					if err := tx.EnqueueOutbox(ctx, out); err != nil {
						return err
					}
					msgs += len(out)
					note := notifiedNote(r.owner, r.managers, now)
					if err := appendEntries(ctx, tx, actionEntry(now, monitorActor, created, "detected; "+note)); err != nil {
						return err
					}
					created.Summary = f.reason
					inc = &created
					// The notification's own history line, with t_n.
					if len(out) > 0 {
						if *inc, _, err = mach.NoteIn(ctx, tx, *inc, "system", note); err != nil {
							return err
						}
					}
				default:
					return err
				}
				open[f.group] = inc
				order = append(order, f.group)
			}
			if claimed[f.e.Seq] {
				continue
			}
			claimed[f.e.Seq] = true
			added[inc.ID] = append(added[inc.ID], store.IncidentAccess{IncidentID: inc.ID, Seq: f.e.Seq, At: f.e.At, Reason: f.reason})
		}
		for _, g := range order {
			inc := open[g]
			as := added[inc.ID]
			if len(as) == 0 {
				continue
			}
			if err := tx.AddIncidentAccesses(ctx, as); err != nil {
				return err
			}
			inc.Accesses += int64(len(as))
			note := fmt.Sprintf("%d offending access(es) attached, entries %d to %d", len(as), as[0].Seq, as[len(as)-1].Seq)
			if _, _, err := mach.NoteIn(ctx, tx, *inc, monitorActor.Name, note); err != nil {
				return err
			}
		}
		return tx.AdvanceMonitor(ctx, pos, from, m.Holder)
	})
	return msgs, err
}
