package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

const proposalCols = `id, title, owner, links, state, base_version, yaml, digest, revision, answers, max_category,
	required, override, published, created_at, updated_at, state_at, version`

func scanProposal(row scanner) (store.Proposal, error) {
	var p store.Proposal
	var links, answers, required string
	var created, updated, stateAt int64
	err := row.Scan(&p.ID, &p.Title, &p.Owner, &links, &p.State, &p.BaseVersion, &p.YAML, &p.Digest, &p.Revision,
		&answers, &p.MaxCategory, &required, &p.Override, &p.Published, &created, &updated, &stateAt, &p.Version)
	if err != nil {
		return p, wrap(err)
	}
	p.CreatedAt, p.UpdatedAt, p.StateAt = tm(created), tm(updated), tm(stateAt)
	if err := json.Unmarshal([]byte(links), &p.Links); err != nil {
		return p, wrap(err)
	}
	if err := json.Unmarshal([]byte(answers), &p.Answers); err != nil {
		return p, wrap(err)
	}
	if required != "" {
		p.Required = strings.Split(required, ",")
	}
	return p, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Store) GetProposal(ctx context.Context, id int64) (store.Proposal, error) {
	return scanProposal(s.r.QueryRowContext(ctx, "SELECT "+proposalCols+" FROM proposals WHERE id = ?", id))
}

func (s *Store) ListProposals(ctx context.Context, q store.ProposalQuery) ([]store.Proposal, error) {
	where, args := []string{"1=1"}, []any{}
	if len(q.States) > 0 {
		where = append(where, "state IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.States)), ",")+")")
		for _, st := range q.States {
			args = append(args, st)
		}
	}
	if q.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, q.Owner)
	}
	if q.MinCategory > 0 {
		where, args = append(where, "max_category >= ?"), append(args, q.MinCategory)
	}
	if q.Role != "" {
		// required is a comma-joined list of role names, which hold no commas.
		where, args = append(where, "(',' || required || ',') LIKE ?"), append(args, "%,"+q.Role+",%")
	}
	if q.Before > 0 {
		where, args = append(where, "id < ?"), append(args, q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+proposalCols+" FROM proposals WHERE "+strings.Join(where, " AND ")+
		" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err())
}

func (s *Store) ProposalHistory(ctx context.Context, id int64) ([]store.ProposalEvent, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT at, actor, action, from_state, to_state, note FROM proposal_events WHERE proposal_id = ? ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.ProposalEvent
	for rows.Next() {
		ev := store.ProposalEvent{ProposalID: id}
		var at int64
		if err := rows.Scan(&at, &ev.Actor, &ev.Action, &ev.From, &ev.To, &ev.Note); err != nil {
			return nil, wrap(err)
		}
		ev.At = tm(at)
		out = append(out, ev)
	}
	return out, wrap(rows.Err())
}

func (s *Store) ListSignOffs(ctx context.Context, id int64) ([]store.SignOff, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, revision, role, reviewer, decision, checklist, note, mitigations, covered, at
		FROM proposal_signoffs WHERE proposal_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.SignOff
	for rows.Next() {
		so := store.SignOff{ProposalID: id}
		var checklist, mitigations, covered string
		var at int64
		if err := rows.Scan(&so.ID, &so.Revision, &so.Role, &so.Reviewer, &so.Decision, &checklist, &so.Note, &mitigations, &covered, &at); err != nil {
			return nil, wrap(err)
		}
		so.At = tm(at)
		for _, j := range []struct {
			s string
			v any
		}{{checklist, &so.Checklist}, {mitigations, &so.Mitigations}, {covered, &so.Covered}} {
			if err := json.Unmarshal([]byte(j.s), j.v); err != nil {
				return nil, wrap(err)
			}
		}
		out = append(out, so)
	}
	return out, wrap(rows.Err())
}

func (s *Store) ListReviewNotes(ctx context.Context, id int64) ([]store.ReviewNote, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, kind, author, role, text, at FROM proposal_notes WHERE proposal_id = ? ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.ReviewNote
	for rows.Next() {
		n := store.ReviewNote{ProposalID: id}
		var at int64
		if err := rows.Scan(&n.ID, &n.Kind, &n.Author, &n.Role, &n.Text, &at); err != nil {
			return nil, wrap(err)
		}
		n.At = tm(at)
		out = append(out, n)
	}
	return out, wrap(rows.Err())
}

func (t tx) MarkExpiryNotice(ctx context.Context, key string, expires, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, "INSERT INTO expiry_notices(key, expires, sent_at) VALUES (?,?,?) ON CONFLICT DO NOTHING", key, us(expires), us(at))
	if err != nil {
		return false, wrap(err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err)
}

func proposalArgs(p *store.Proposal) []any {
	return []any{p.Title, p.Owner, jsonText(nonNil(p.Links)), p.State, p.BaseVersion, p.YAML, p.Digest, p.Revision,
		jsonText(nonNilMap(p.Answers)), p.MaxCategory, strings.Join(p.Required, ","), p.Override, p.Published,
		us(p.CreatedAt), us(p.UpdatedAt), us(p.StateAt), p.Version}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (t tx) CreateProposal(ctx context.Context, p *store.Proposal) error {
	p.Version = 1
	res, err := t.tx.ExecContext(ctx, `INSERT INTO proposals(title, owner, links, state, base_version, yaml, digest, revision, answers,
		max_category, required, override, published, created_at, updated_at, state_at, version) VALUES (`+
		strings.TrimSuffix(strings.Repeat("?,", 17), ",")+")", proposalArgs(p)...)
	if err != nil {
		return wrap(err)
	}
	p.ID, err = res.LastInsertId()
	return wrap(err)
}

func (t tx) UpdateProposal(ctx context.Context, p *store.Proposal) error {
	read := p.Version
	p.Version++
	res, err := t.tx.ExecContext(ctx, `UPDATE proposals SET title=?, owner=?, links=?, state=?, base_version=?, yaml=?, digest=?,
		revision=?, answers=?, max_category=?, required=?, override=?, published=?, created_at=?, updated_at=?, state_at=?, version=?
		WHERE id=? AND version=?`, append(proposalArgs(p), p.ID, read)...)
	if err != nil {
		p.Version = read
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		p.Version = read
		return store.ErrConflict
	}
	return nil
}

func (t tx) AppendProposalEvent(ctx context.Context, ev store.ProposalEvent) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO proposal_events(proposal_id, at, actor, action, from_state, to_state, note) VALUES (?,?,?,?,?,?,?)",
		ev.ProposalID, us(ev.At), ev.Actor, ev.Action, ev.From, ev.To, ev.Note)
	return wrap(err)
}

func (t tx) AddSignOff(ctx context.Context, so store.SignOff) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO proposal_signoffs(proposal_id, revision, role, reviewer, decision, checklist, note,
		mitigations, covered, at) VALUES (?,?,?,?,?,?,?,?,?,?)`, so.ProposalID, so.Revision, so.Role, so.Reviewer, so.Decision,
		jsonText(nonNilMap(so.Checklist)), so.Note, jsonText(nonNil(so.Mitigations)), jsonText(nonNilMap(so.Covered)), us(so.At))
	return wrap(err)
}

func (t tx) AddReviewNote(ctx context.Context, n store.ReviewNote) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO proposal_notes(proposal_id, kind, author, role, text, at) VALUES (?,?,?,?,?,?)",
		n.ProposalID, n.Kind, n.Author, n.Role, n.Text, us(n.At))
	return wrap(err)
}

// PublishRegistryVersion numbers the version inside the caller's
// transaction, which holds SQLite's single writer, so no other version can
// take the number between the read and the insert.
func (t tx) PublishRegistryVersion(ctx context.Context, v store.RegistryVersion) (int64, error) {
	var head int64
	if err := t.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM registry_versions").Scan(&head); err != nil && err != sql.ErrNoRows {
		return 0, wrap(err)
	}
	v.Version = head + 1
	_, err := t.tx.ExecContext(ctx, `INSERT INTO registry_versions(version, yaml, digest, fingerprints, approved_by, note, proposal, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.Version, v.YAML, v.Digest, jsonText(v.Fingerprints), v.ApprovedBy, v.Note, v.Proposal, us(v.CreatedAt))
	return v.Version, wrap(err)
}
