package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

const incidentCols = `id, title, source, group_key, state, credential, dataset, summary, leak_at, aware_at,
	owner_notified_at, authority_notified_at, subjects_notified_at, high_risk_at, reasoning, accesses, opened_by,
	created_at, updated_at, state_at, version, window_from, window_to, blast, severity, consequences, measures`

func scanIncident(row scanner) (store.Incident, error) {
	var i store.Incident
	var leak, aware, owner, authority, subjects, high, created, updated, stateAt, wfrom, wto int64
	var blast, severity string
	err := row.Scan(&i.ID, &i.Title, &i.Source, &i.GroupKey, &i.State, &i.Credential, &i.Dataset, &i.Summary, &leak, &aware,
		&owner, &authority, &subjects, &high, &i.Reasoning, &i.Accesses, &i.OpenedBy, &created, &updated, &stateAt, &i.Version,
		&wfrom, &wto, &blast, &severity, &i.Consequences, &i.Measures)
	i.WindowFrom, i.WindowTo, i.Blast, i.Severity = tm(wfrom), tm(wto), bytesOrNil(blast), bytesOrNil(severity)
	i.LeakAt, i.AwareAt, i.OwnerNotifiedAt, i.AuthorityNotifiedAt = tm(leak), tm(aware), tm(owner), tm(authority)
	i.SubjectsNotifiedAt, i.HighRiskAt, i.CreatedAt, i.UpdatedAt, i.StateAt = tm(subjects), tm(high), tm(created), tm(updated), tm(stateAt)
	return i, wrap(err)
}

func incidentArgs(i *store.Incident) []any {
	return []any{i.Title, i.Source, i.GroupKey, i.State, i.Credential, i.Dataset, i.Summary, us(i.LeakAt), us(i.AwareAt),
		us(i.OwnerNotifiedAt), us(i.AuthorityNotifiedAt), us(i.SubjectsNotifiedAt), us(i.HighRiskAt), i.Reasoning, i.Accesses,
		i.OpenedBy, us(i.CreatedAt), us(i.UpdatedAt), us(i.StateAt), i.Version,
		us(i.WindowFrom), us(i.WindowTo), string(i.Blast), string(i.Severity), i.Consequences, i.Measures}
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func (s *Store) GetIncident(ctx context.Context, id int64) (store.Incident, error) {
	return scanIncident(s.r.QueryRowContext(ctx, "SELECT "+incidentCols+" FROM incidents WHERE id = ?", id))
}

func (s *Store) ListIncidents(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error) {
	where, args := []string{"1=1"}, []any{}
	if len(q.States) > 0 {
		where = append(where, "state IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.States)), ",")+")")
		for _, st := range q.States {
			args = append(args, st)
		}
	}
	if q.Source != "" {
		where, args = append(where, "source = ?"), append(args, q.Source)
	}
	if q.Before > 0 {
		where, args = append(where, "id < ?"), append(args, q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+incidentCols+" FROM incidents WHERE "+strings.Join(where, " AND ")+
		" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, wrap(rows.Err())
}

func (s *Store) IncidentHistory(ctx context.Context, id int64) ([]store.IncidentEvent, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT at, actor, action, from_state, to_state, note FROM incident_events WHERE incident_id = ? ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.IncidentEvent
	for rows.Next() {
		ev := store.IncidentEvent{IncidentID: id}
		var at int64
		if err := rows.Scan(&at, &ev.Actor, &ev.Action, &ev.From, &ev.To, &ev.Note); err != nil {
			return nil, wrap(err)
		}
		ev.At = tm(at)
		out = append(out, ev)
	}
	return out, wrap(rows.Err())
}

func (s *Store) IncidentAccesses(ctx context.Context, id int64, limit int) ([]store.IncidentAccess, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, "SELECT seq, at, reason FROM incident_accesses WHERE incident_id = ? ORDER BY seq LIMIT ?", id, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.IncidentAccess
	for rows.Next() {
		a := store.IncidentAccess{IncidentID: id}
		var at int64
		if err := rows.Scan(&a.Seq, &at, &a.Reason); err != nil {
			return nil, wrap(err)
		}
		a.At = tm(at)
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

func (s *Store) GetMonitorPosition(ctx context.Context, name string) (store.MonitorPosition, error) {
	p := store.MonitorPosition{Name: name}
	var updated int64
	err := s.r.QueryRowContext(ctx, "SELECT seq, hash, checked, state, updated_at FROM monitor_positions WHERE name = ?", name).
		Scan(&p.Seq, &p.Hash, &p.Checked, &p.State, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	p.UpdatedAt = tm(updated)
	return p, wrap(err)
}

func (s *Store) TakeLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO leases(name, holder, expires_at) VALUES (?,?,?)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`, name, holder, us(now.Add(ttl)), us(now))
	if err != nil {
		return false, wrap(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t tx) CreateIncident(ctx context.Context, i *store.Incident) error {
	res, err := t.tx.ExecContext(ctx, "INSERT INTO incidents("+strings.TrimPrefix(incidentCols, "id, ")+") VALUES ("+
		strings.TrimSuffix(strings.Repeat("?,", 26), ",")+")", incidentArgs(i)...)
	if err != nil {
		return wrap(err)
	}
	i.ID, err = res.LastInsertId()
	return wrap(err)
}

func (t tx) UpdateIncident(ctx context.Context, i *store.Incident) error {
	read := i.Version
	i.Version++
	args := append(incidentArgs(i), i.ID, read)
	res, err := t.tx.ExecContext(ctx, `UPDATE incidents SET title=?, source=?, group_key=?, state=?, credential=?, dataset=?, summary=?,
		leak_at=?, aware_at=?, owner_notified_at=?, authority_notified_at=?, subjects_notified_at=?, high_risk_at=?, reasoning=?,
		accesses=?, opened_by=?, created_at=?, updated_at=?, state_at=?, version=?,
		window_from=?, window_to=?, blast=?, severity=?, consequences=?, measures=? WHERE id=? AND version=?`, args...)
	if err != nil {
		i.Version = read
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		i.Version = read
		return store.ErrConflict
	}
	return nil
}

func (t tx) AppendIncidentEvent(ctx context.Context, ev store.IncidentEvent) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO incident_events(incident_id, at, actor, action, from_state, to_state, note) VALUES (?,?,?,?,?,?,?)",
		ev.IncidentID, us(ev.At), ev.Actor, ev.Action, ev.From, ev.To, ev.Note)
	return wrap(err)
}

func (t tx) OpenIncidentByGroup(ctx context.Context, key string, states []string) (store.Incident, error) {
	if len(states) == 0 {
		return store.Incident{}, store.ErrNotFound
	}
	args := []any{key}
	for _, s := range states {
		args = append(args, s)
	}
	return scanIncident(t.tx.QueryRowContext(ctx, "SELECT "+incidentCols+" FROM incidents WHERE group_key = ? AND state IN ("+
		strings.TrimSuffix(strings.Repeat("?,", len(states)), ",")+") ORDER BY id DESC LIMIT 1", args...))
}

func (t tx) AddIncidentAccesses(ctx context.Context, as []store.IncidentAccess) error {
	for start := 0; start < len(as); start += chunk {
		part := as[start:min(start+chunk, len(as))]
		args := make([]any, 0, 4*len(part))
		for _, a := range part {
			args = append(args, a.Seq, a.IncidentID, us(a.At), a.Reason)
		}
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO incident_accesses(seq, incident_id, at, reason) VALUES "+placeholders(len(part), 4), args...); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func (t tx) AdvanceMonitor(ctx context.Context, p store.MonitorPosition, fromSeq int64, holder string) error {
	var held int
	err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM leases WHERE name = ? AND holder = ? AND expires_at > ?", p.Name, holder, us(p.UpdatedAt)).Scan(&held)
	if err != nil {
		return wrap(err)
	}
	if held != 1 {
		return store.ErrConflict
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO monitor_positions(name, seq, hash, checked, state, updated_at) VALUES (?,?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checked = excluded.checked, state = excluded.state,
		updated_at = excluded.updated_at WHERE monitor_positions.seq = ?`, p.Name, p.Seq, p.Hash, p.Checked, p.State, us(p.UpdatedAt), fromSeq)
	if err != nil {
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return store.ErrConflict
	}
	return nil
}

func (t tx) MarkIncidentNotice(ctx context.Context, id int64, key string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, "INSERT OR IGNORE INTO incident_notices(incident_id, key, at) VALUES (?,?,?)", id, key, us(at))
	if err != nil {
		return false, wrap(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t tx) AppendAccessTx(ctx context.Context, entries []*store.AccessEntry, seal func(*store.AccessEntry, []byte)) error {
	return appendAccess(ctx, t.tx, entries, seal)
}
