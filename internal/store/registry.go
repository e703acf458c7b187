package store

import (
	"context"
	"time"
)

// RegistryVersion is one approved version of the data registry. Versions
// are numbered from 1 and never change once stored: the newest one is the
// law every node collects under.
type RegistryVersion struct {
	Version int64
	// YAML is the registry exactly as approved.
	YAML []byte
	// Digest is the hex SHA-256 of YAML, so a start-up can tell whether its
	// file is already the current version.
	Digest string
	// Fingerprints maps "dataset" and "dataset.field" to the fingerprint of
	// its reviewed definition (registry.Field.Fingerprint).
	Fingerprints map[string]string
	// ApprovedBy says who or what approved it (an operator at start-up, a
	// review).
	ApprovedBy string
	// Note says how it came to be (the file it was loaded from, a review id).
	Note string
	// Proposal is the review that produced it (0 for one stored before
	// reviews, the built-in example, or an operator's start-up file).
	Proposal  int64
	CreatedAt time.Time
}

// RegistryVersions keeps the registry's history.
type RegistryVersions interface {
	// AddRegistryVersion stores v as the next version and returns its
	// number. With ifChanged, nothing is stored when the newest version has
	// the same Digest; that version is returned with added false. Two nodes
	// adding at once get consecutive numbers, never the same one.
	AddRegistryVersion(ctx context.Context, v RegistryVersion, ifChanged bool) (stored RegistryVersion, added bool, err error)
	// RegistryHead returns the newest version's number, 0 when there is
	// none. It is cheap: nodes poll it.
	RegistryHead(ctx context.Context) (int64, error)
	// GetRegistryVersion returns ErrNotFound for an unknown number.
	GetRegistryVersion(ctx context.Context, version int64) (RegistryVersion, error)
	// ListRegistryVersions returns every version, oldest first, without
	// their YAML.
	ListRegistryVersions(ctx context.Context) ([]RegistryVersion, error)
}
