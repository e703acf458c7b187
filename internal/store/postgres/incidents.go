package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

const incidentCols = `id, title, source, group_key, state, credential, dataset, summary, leak_at, aware_at,
	owner_notified_at, authority_notified_at, subjects_notified_at, high_risk_at, reasoning, accesses, opened_by,
	created_at, updated_at, state_at, version, window_from, window_to, blast, severity, consequences, measures`

func scanIncident(row pgx.Row) (store.Incident, error) {
	var i store.Incident
	var leak, aware, owner, authority, subjects, high, wfrom, wto *time.Time
	var blast, severity string
	err := row.Scan(&i.ID, &i.Title, &i.Source, &i.GroupKey, &i.State, &i.Credential, &i.Dataset, &i.Summary, &leak, &aware,
		&owner, &authority, &subjects, &high, &i.Reasoning, &i.Accesses, &i.OpenedBy, &i.CreatedAt, &i.UpdatedAt, &i.StateAt, &i.Version,
		&wfrom, &wto, &blast, &severity, &i.Consequences, &i.Measures)
	i.WindowFrom, i.WindowTo = fromNull(wfrom), fromNull(wto)
	if blast != "" {
		i.Blast = []byte(blast)
	}
	if severity != "" {
		i.Severity = []byte(severity)
	}
	i.LeakAt, i.AwareAt, i.OwnerNotifiedAt = fromNull(leak), fromNull(aware), fromNull(owner)
	i.AuthorityNotifiedAt, i.SubjectsNotifiedAt, i.HighRiskAt = fromNull(authority), fromNull(subjects), fromNull(high)
	i.CreatedAt, i.UpdatedAt, i.StateAt = i.CreatedAt.UTC(), i.UpdatedAt.UTC(), i.StateAt.UTC()
	return i, wrap(err)
}

func incidentArgs(i *store.Incident) []any {
	return []any{i.Title, i.Source, i.GroupKey, i.State, i.Credential, i.Dataset, i.Summary, nullTime(i.LeakAt), nullTime(i.AwareAt),
		nullTime(i.OwnerNotifiedAt), nullTime(i.AuthorityNotifiedAt), nullTime(i.SubjectsNotifiedAt), nullTime(i.HighRiskAt),
		i.Reasoning, i.Accesses, i.OpenedBy, i.CreatedAt.UTC(), i.UpdatedAt.UTC(), i.StateAt.UTC(), i.Version,
		nullTime(i.WindowFrom), nullTime(i.WindowTo), string(i.Blast), string(i.Severity), i.Consequences, i.Measures}
}

func (s *Store) GetIncident(ctx context.Context, id int64) (store.Incident, error) {
	return scanIncident(s.pool.QueryRow(ctx, "SELECT "+incidentCols+" FROM incidents WHERE id = $1", id))
}

func (s *Store) ListIncidents(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	states := q.States
	if states == nil {
		states = []string{}
	}
	rows, err := s.pool.Query(ctx, "SELECT "+incidentCols+` FROM incidents
		WHERE (cardinality($1::text[]) = 0 OR state = ANY($1)) AND ($2 = '' OR source = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, states, q.Source, q.Before, limit)
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
	rows, err := s.pool.Query(ctx, "SELECT at, actor, action, from_state, to_state, note FROM incident_events WHERE incident_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.IncidentEvent
	for rows.Next() {
		ev := store.IncidentEvent{IncidentID: id}
		if err := rows.Scan(&ev.At, &ev.Actor, &ev.Action, &ev.From, &ev.To, &ev.Note); err != nil {
			return nil, wrap(err)
		}
		ev.At = ev.At.UTC()
		out = append(out, ev)
	}
	return out, wrap(rows.Err())
}

func (s *Store) IncidentAccesses(ctx context.Context, id int64, limit int) ([]store.IncidentAccess, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, "SELECT seq, at, reason FROM incident_accesses WHERE incident_id = $1 ORDER BY seq LIMIT $2", id, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.IncidentAccess
	for rows.Next() {
		a := store.IncidentAccess{IncidentID: id}
		if err := rows.Scan(&a.Seq, &a.At, &a.Reason); err != nil {
			return nil, wrap(err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

func (s *Store) GetMonitorPosition(ctx context.Context, name string) (store.MonitorPosition, error) {
	p := store.MonitorPosition{Name: name}
	err := s.pool.QueryRow(ctx, "SELECT seq, hash, checked, state, updated_at FROM monitor_positions WHERE name = $1", name).
		Scan(&p.Seq, &p.Hash, &p.Checked, &p.State, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, wrap(err)
}

func (s *Store) TakeLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO leases(name, holder, expires_at) VALUES ($1,$2,$3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`, name, holder, now.Add(ttl).UTC(), now.UTC())
	if err != nil {
		return false, wrap(err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t tx) CreateIncident(ctx context.Context, i *store.Incident) error {
	return wrap(t.tx.QueryRow(ctx, "INSERT INTO incidents(title, source, group_key, state, credential, dataset, summary, leak_at, aware_at, "+
		"owner_notified_at, authority_notified_at, subjects_notified_at, high_risk_at, reasoning, accesses, opened_by, created_at, updated_at, "+
		"state_at, version, window_from, window_to, blast, severity, consequences, measures) VALUES ("+placeholders(26, 1)+") RETURNING id", incidentArgs(i)...).Scan(&i.ID))
}

func (t tx) UpdateIncident(ctx context.Context, i *store.Incident) error {
	read := i.Version
	i.Version++
	tag, err := t.tx.Exec(ctx, `UPDATE incidents SET title=$1, source=$2, group_key=$3, state=$4, credential=$5, dataset=$6, summary=$7,
		leak_at=$8, aware_at=$9, owner_notified_at=$10, authority_notified_at=$11, subjects_notified_at=$12, high_risk_at=$13,
		reasoning=$14, accesses=$15, opened_by=$16, created_at=$17, updated_at=$18, state_at=$19, version=$20,
		window_from=$21, window_to=$22, blast=$23, severity=$24, consequences=$25, measures=$26
		WHERE id=$27 AND version=$28`, append(incidentArgs(i), i.ID, read)...)
	if err != nil {
		i.Version = read
		return wrap(err)
	}
	if tag.RowsAffected() != 1 {
		i.Version = read
		return store.ErrConflict
	}
	return nil
}

func (t tx) AppendIncidentEvent(ctx context.Context, ev store.IncidentEvent) error {
	_, err := t.tx.Exec(ctx, "INSERT INTO incident_events(incident_id, at, actor, action, from_state, to_state, note) VALUES ($1,$2,$3,$4,$5,$6,$7)",
		ev.IncidentID, ev.At.UTC(), ev.Actor, ev.Action, ev.From, ev.To, ev.Note)
	return wrap(err)
}

func (t tx) OpenIncidentByGroup(ctx context.Context, key string, states []string) (store.Incident, error) {
	return scanIncident(t.tx.QueryRow(ctx, "SELECT "+incidentCols+" FROM incidents WHERE group_key = $1 AND state = ANY($2) ORDER BY id DESC LIMIT 1", key, states))
}

func (t tx) AddIncidentAccesses(ctx context.Context, as []store.IncidentAccess) error {
	if len(as) == 0 {
		return nil
	}
	rows := make([][]any, len(as))
	for i, a := range as {
		rows[i] = []any{a.Seq, a.IncidentID, a.At.UTC(), a.Reason}
	}
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"incident_accesses"}, []string{"seq", "incident_id", "at", "reason"}, pgx.CopyFromRows(rows))
	return wrap(err)
}

func (t tx) AdvanceMonitor(ctx context.Context, p store.MonitorPosition, fromSeq int64, holder string) error {
	// FOR SHARE keeps the lease from changing hands until this commits.
	var held bool
	err := t.tx.QueryRow(ctx, "SELECT true FROM leases WHERE name = $1 AND holder = $2 AND expires_at > $3 FOR SHARE", p.Name, holder, p.UpdatedAt.UTC()).Scan(&held)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrConflict
	}
	if err != nil {
		return wrap(err)
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO monitor_positions(name, seq, hash, checked, state, updated_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checked = excluded.checked, state = excluded.state,
		updated_at = excluded.updated_at WHERE monitor_positions.seq = $7`, p.Name, p.Seq, p.Hash, p.Checked, p.State, p.UpdatedAt.UTC(), fromSeq)
	if err != nil {
		return wrap(err)
	}
	if tag.RowsAffected() != 1 {
		return store.ErrConflict
	}
	return nil
}

func (t tx) MarkIncidentNotice(ctx context.Context, id int64, key string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, "INSERT INTO incident_notices(incident_id, key, at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING", id, key, at.UTC())
	if err != nil {
		return false, wrap(err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t tx) AppendAccessTx(ctx context.Context, entries []*store.AccessEntry, seal func(*store.AccessEntry, []byte)) error {
	return appendAccess(ctx, t.tx, entries, seal)
}
