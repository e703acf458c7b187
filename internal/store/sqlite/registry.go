package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/steward-privacy/steward/internal/store"
)

// AddRegistryVersion numbers the version inside the writer's immediate
// transaction, so two processes sharing the file cannot take one number.
func (s *Store) AddRegistryVersion(ctx context.Context, v store.RegistryVersion, ifChanged bool) (store.RegistryVersion, bool, error) {
	fps, err := json.Marshal(v.Fingerprints)
	if err != nil {
		return v, false, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return v, false, wrap(err)
	}
	defer tx.Rollback()
	var head int64
	var digest string
	err = tx.QueryRowContext(ctx, "SELECT version, digest FROM registry_versions ORDER BY version DESC LIMIT 1").Scan(&head, &digest)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return v, false, wrap(err)
	}
	if ifChanged && head > 0 && digest == v.Digest {
		cur, err := getRegistryVersion(ctx, tx, head)
		return cur, false, err
	}
	v.Version = head + 1
	if _, err := tx.ExecContext(ctx, `INSERT INTO registry_versions(version, yaml, digest, fingerprints, approved_by, note, proposal, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.Version, v.YAML, v.Digest, string(fps), v.ApprovedBy, v.Note, v.Proposal, us(v.CreatedAt)); err != nil {
		return v, false, wrap(err)
	}
	if err := tx.Commit(); err != nil {
		return v, false, wrap(err)
	}
	return v, true, nil
}

func (s *Store) RegistryHead(ctx context.Context) (int64, error) {
	var head int64
	err := s.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM registry_versions").Scan(&head)
	return head, wrap(err)
}

func (s *Store) GetRegistryVersion(ctx context.Context, version int64) (store.RegistryVersion, error) {
	return getRegistryVersion(ctx, s.r, version)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getRegistryVersion(ctx context.Context, q querier, version int64) (store.RegistryVersion, error) {
	v := store.RegistryVersion{Version: version}
	var fps string
	var created int64
	err := q.QueryRowContext(ctx, `SELECT yaml, digest, fingerprints, approved_by, note, proposal, created_at
		FROM registry_versions WHERE version = ?`, version).Scan(&v.YAML, &v.Digest, &fps, &v.ApprovedBy, &v.Note, &v.Proposal, &created)
	if err != nil {
		return v, wrap(err)
	}
	v.CreatedAt = tm(created)
	if err := json.Unmarshal([]byte(fps), &v.Fingerprints); err != nil {
		return v, wrap(err)
	}
	return v, nil
}

func (s *Store) ListRegistryVersions(ctx context.Context) ([]store.RegistryVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, digest, fingerprints, approved_by, note, proposal, created_at
		FROM registry_versions ORDER BY version`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RegistryVersion
	for rows.Next() {
		var v store.RegistryVersion
		var fps string
		var created int64
		if err := rows.Scan(&v.Version, &v.Digest, &fps, &v.ApprovedBy, &v.Note, &v.Proposal, &created); err != nil {
			return nil, wrap(err)
		}
		v.CreatedAt = tm(created)
		if err := json.Unmarshal([]byte(fps), &v.Fingerprints); err != nil {
			return nil, wrap(err)
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err())
}
