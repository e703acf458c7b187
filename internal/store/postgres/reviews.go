package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

const proposalCols = `id, title, owner, links, state, base_version, yaml, digest, revision, answers, max_category,
	required, override, published, created_at, updated_at, state_at, version`

func scanProposal(row pgx.Row) (store.Proposal, error) {
	var p store.Proposal
	var links, answers []byte
	err := row.Scan(&p.ID, &p.Title, &p.Owner, &links, &p.State, &p.BaseVersion, &p.YAML, &p.Digest, &p.Revision,
		&answers, &p.MaxCategory, &p.Required, &p.Override, &p.Published, &p.CreatedAt, &p.UpdatedAt, &p.StateAt, &p.Version)
	if err != nil {
		return p, wrap(err)
	}
	p.CreatedAt, p.UpdatedAt, p.StateAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC(), p.StateAt.UTC()
	if err := json.Unmarshal(links, &p.Links); err != nil {
		return p, wrap(err)
	}
	if err := json.Unmarshal(answers, &p.Answers); err != nil {
		return p, wrap(err)
	}
	if len(p.Required) == 0 {
		p.Required = nil
	}
	return p, nil
}

func jsonb(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *Store) GetProposal(ctx context.Context, id int64) (store.Proposal, error) {
	return scanProposal(s.pool.QueryRow(ctx, "SELECT "+proposalCols+" FROM proposals WHERE id = $1", id))
}

func (s *Store) ListProposals(ctx context.Context, q store.ProposalQuery) ([]store.Proposal, error) {
	where, args := []string{"true"}, []any{}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if len(q.States) > 0 {
		where = append(where, "state = ANY("+arg(q.States)+")")
	}
	if q.Owner != "" {
		where = append(where, "owner = "+arg(q.Owner))
	}
	if q.MinCategory > 0 {
		where = append(where, "max_category >= "+arg(q.MinCategory))
	}
	if q.Role != "" {
		where = append(where, arg(q.Role)+" = ANY(required)")
	}
	if q.Before > 0 {
		where = append(where, "id < "+arg(q.Before))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, "SELECT "+proposalCols+" FROM proposals WHERE "+strings.Join(where, " AND ")+
		" ORDER BY id DESC LIMIT "+arg(limit), args...)
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
	rows, err := s.pool.Query(ctx, "SELECT at, actor, action, from_state, to_state, note FROM proposal_events WHERE proposal_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.ProposalEvent
	for rows.Next() {
		ev := store.ProposalEvent{ProposalID: id}
		if err := rows.Scan(&ev.At, &ev.Actor, &ev.Action, &ev.From, &ev.To, &ev.Note); err != nil {
			return nil, wrap(err)
		}
		ev.At = ev.At.UTC()
		out = append(out, ev)
	}
	return out, wrap(rows.Err())
}

func (s *Store) ListSignOffs(ctx context.Context, id int64) ([]store.SignOff, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, revision, role, reviewer, decision, checklist, note, mitigations, covered, at
		FROM proposal_signoffs WHERE proposal_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.SignOff
	for rows.Next() {
		so := store.SignOff{ProposalID: id}
		var checklist, mitigations, covered []byte
		if err := rows.Scan(&so.ID, &so.Revision, &so.Role, &so.Reviewer, &so.Decision, &checklist, &so.Note, &mitigations, &covered, &so.At); err != nil {
			return nil, wrap(err)
		}
		so.At = so.At.UTC()
		for _, j := range []struct {
			b []byte
			v any
		}{{checklist, &so.Checklist}, {mitigations, &so.Mitigations}, {covered, &so.Covered}} {
			if err := json.Unmarshal(j.b, j.v); err != nil {
				return nil, wrap(err)
			}
		}
		out = append(out, so)
	}
	return out, wrap(rows.Err())
}

func (s *Store) ListReviewNotes(ctx context.Context, id int64) ([]store.ReviewNote, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, kind, author, role, text, at FROM proposal_notes WHERE proposal_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.ReviewNote
	for rows.Next() {
		n := store.ReviewNote{ProposalID: id}
		if err := rows.Scan(&n.ID, &n.Kind, &n.Author, &n.Role, &n.Text, &n.At); err != nil {
			return nil, wrap(err)
		}
		n.At = n.At.UTC()
		out = append(out, n)
	}
	return out, wrap(rows.Err())
}

func (t tx) MarkExpiryNotice(ctx context.Context, key string, expires, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, "INSERT INTO expiry_notices(key, expires, sent_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING", key, expires.UTC(), at.UTC())
	if err != nil {
		return false, wrap(err)
	}
	return tag.RowsAffected() == 1, nil
}

func proposalArgs(p *store.Proposal) []any {
	links, answers, required := p.Links, p.Answers, p.Required
	if links == nil {
		links = []string{}
	}
	if answers == nil {
		answers = map[string]string{}
	}
	if required == nil {
		required = []string{}
	}
	return []any{p.Title, p.Owner, jsonb(links), p.State, p.BaseVersion, p.YAML, p.Digest, p.Revision, jsonb(answers),
		p.MaxCategory, required, p.Override, p.Published, p.CreatedAt.UTC(), p.UpdatedAt.UTC(), p.StateAt.UTC(), p.Version}
}

func (t tx) CreateProposal(ctx context.Context, p *store.Proposal) error {
	p.Version = 1
	err := t.tx.QueryRow(ctx, `INSERT INTO proposals(title, owner, links, state, base_version, yaml, digest, revision, answers,
		max_category, required, override, published, created_at, updated_at, state_at, version)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING id`, proposalArgs(p)...).Scan(&p.ID)
	return wrap(err)
}

func (t tx) UpdateProposal(ctx context.Context, p *store.Proposal) error {
	read := p.Version
	p.Version++
	tag, err := t.tx.Exec(ctx, `UPDATE proposals SET title=$1, owner=$2, links=$3, state=$4, base_version=$5, yaml=$6, digest=$7,
		revision=$8, answers=$9, max_category=$10, required=$11, override=$12, published=$13, created_at=$14, updated_at=$15,
		state_at=$16, version=$17 WHERE id=$18 AND version=$19`, append(proposalArgs(p), p.ID, read)...)
	if err != nil {
		p.Version = read
		return wrap(err)
	}
	if tag.RowsAffected() != 1 {
		p.Version = read
		return store.ErrConflict
	}
	return nil
}

func (t tx) AppendProposalEvent(ctx context.Context, ev store.ProposalEvent) error {
	_, err := t.tx.Exec(ctx, "INSERT INTO proposal_events(proposal_id, at, actor, action, from_state, to_state, note) VALUES ($1,$2,$3,$4,$5,$6,$7)",
		ev.ProposalID, ev.At.UTC(), ev.Actor, ev.Action, ev.From, ev.To, ev.Note)
	return wrap(err)
}

func (t tx) AddSignOff(ctx context.Context, so store.SignOff) error {
	checklist, mitigations, covered := so.Checklist, so.Mitigations, so.Covered
	if checklist == nil {
		checklist = map[string]string{}
	}
	if mitigations == nil {
		mitigations = []string{}
	}
	if covered == nil {
		covered = map[string]string{}
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO proposal_signoffs(proposal_id, revision, role, reviewer, decision, checklist, note,
		mitigations, covered, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, so.ProposalID, so.Revision, so.Role, so.Reviewer,
		so.Decision, jsonb(checklist), so.Note, jsonb(mitigations), jsonb(covered), so.At.UTC())
	return wrap(err)
}

func (t tx) AddReviewNote(ctx context.Context, n store.ReviewNote) error {
	_, err := t.tx.Exec(ctx, "INSERT INTO proposal_notes(proposal_id, kind, author, role, text, at) VALUES ($1,$2,$3,$4,$5,$6)",
		n.ProposalID, n.Kind, n.Author, n.Role, n.Text, n.At.UTC())
	return wrap(err)
}

// PublishRegistryVersion takes the registry's numbering lock for the rest
// of the caller's transaction, as AddRegistryVersion does, so a version
// published by a review and one stored at another node's start-up never
// take the same number.
func (t tx) PublishRegistryVersion(ctx context.Context, v store.RegistryVersion) (int64, error) {
	if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", registryLock); err != nil {
		return 0, wrap(err)
	}
	var head int64
	if err := t.tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM registry_versions").Scan(&head); err != nil {
		return 0, wrap(err)
	}
	v.Version = head + 1
	_, err := t.tx.Exec(ctx, `INSERT INTO registry_versions(version, yaml, digest, fingerprints, approved_by, note, proposal, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.Version, v.YAML, v.Digest, jsonb(v.Fingerprints), v.ApprovedBy, v.Note, v.Proposal, v.CreatedAt.UTC())
	return v.Version, wrap(err)
}
