package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

// registryLock serialises numbering: two nodes publishing at once take
// consecutive versions, and two nodes starting with the same file store it
// once.
const registryLock = 7253003

func (s *Store) AddRegistryVersion(ctx context.Context, v store.RegistryVersion, ifChanged bool) (store.RegistryVersion, bool, error) {
	fps, err := json.Marshal(v.Fingerprints)
	if err != nil {
		return v, false, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return v, false, wrap(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", registryLock); err != nil {
		return v, false, wrap(err)
	}
	var head int64
	var digest string
	err = tx.QueryRow(ctx, "SELECT version, digest FROM registry_versions ORDER BY version DESC LIMIT 1").Scan(&head, &digest)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return v, false, wrap(err)
	}
	if ifChanged && head > 0 && digest == v.Digest {
		cur, err := getRegistryVersion(ctx, tx, head)
		return cur, false, err
	}
	v.Version = head + 1
	if _, err := tx.Exec(ctx, `INSERT INTO registry_versions(version, yaml, digest, fingerprints, approved_by, note, proposal, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.Version, v.YAML, v.Digest, fps, v.ApprovedBy, v.Note, v.Proposal, v.CreatedAt.UTC()); err != nil {
		return v, false, wrap(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return v, false, wrap(err)
	}
	return v, true, nil
}

func (s *Store) RegistryHead(ctx context.Context) (int64, error) {
	var head int64
	err := s.pool.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM registry_versions").Scan(&head)
	return head, wrap(err)
}

func (s *Store) GetRegistryVersion(ctx context.Context, version int64) (store.RegistryVersion, error) {
	return getRegistryVersion(ctx, s.pool, version)
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getRegistryVersion(ctx context.Context, q rowQuerier, version int64) (store.RegistryVersion, error) {
	v := store.RegistryVersion{Version: version}
	var fps []byte
	err := q.QueryRow(ctx, `SELECT yaml, digest, fingerprints, approved_by, note, proposal, created_at
		FROM registry_versions WHERE version = $1`, version).Scan(&v.YAML, &v.Digest, &fps, &v.ApprovedBy, &v.Note, &v.Proposal, &v.CreatedAt)
	if err != nil {
		return v, wrap(err)
	}
	v.CreatedAt = v.CreatedAt.UTC()
	if err := json.Unmarshal(fps, &v.Fingerprints); err != nil {
		return v, wrap(err)
	}
	return v, nil
}

func (s *Store) ListRegistryVersions(ctx context.Context) ([]store.RegistryVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, digest, fingerprints, approved_by, note, proposal, created_at
		FROM registry_versions ORDER BY version`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RegistryVersion
	for rows.Next() {
		var v store.RegistryVersion
		var fps []byte
		if err := rows.Scan(&v.Version, &v.Digest, &fps, &v.ApprovedBy, &v.Note, &v.Proposal, &v.CreatedAt); err != nil {
			return nil, wrap(err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		if err := json.Unmarshal(fps, &v.Fingerprints); err != nil {
			return nil, wrap(err)
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err())
}
