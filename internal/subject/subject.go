// Package subject turns a data subject's identifier into its subject key:
// the keyed hash under which steward stores that person's events, and
// under which lookup, the access log and erasure find them. Every place
// that hashes an identifier goes through Key (or Keys), so one person's
// identifier gives one key however it was spelt.
//
// The normalisation depends on what the identifier is:
//
//   - Email (a subject field declared `identifier: email`, and the e-mail
//     address of a data subject request): surrounding white space trimmed
//     and lower-cased (Unicode lower case, as strings.ToLower). Case does
//     not tell people apart in practice, and requests already compared
//     addresses this way. Nothing else is changed: +tags and dots in the
//     local part are kept, because at many providers they are different
//     mailboxes and merging them could merge different people; there is no
//     Unicode (NFC) or IDNA normalisation, since non-ASCII addresses are
//     rare and both sides of a match (collection and the request form)
//     receive what people type.
//   - UUID (a subject field of type uuid): trimmed and lower-cased, as
//     collection's validation already did.
//   - Opaque (everything else: account ids, app user ids, numbers): only
//     surrounding white space trimmed; an opaque id may be case-sensitive.
//
// An identifier that is blank after trimming identifies nobody and has no
// key (""), so such events are not grouped under one subject.
//
// A normalised identifier hashes exactly as before normalisation existed
// (HMAC under the domain "subject"), so stored events keep their keys.
// Events stored earlier under an identifier that was not normalised are
// reached through Keys, which adds the key of the identifier as given.
package subject

import (
	"fmt"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
)

// Identifier is what kind of identifier a value is; it decides the
// normalisation.
type Identifier int

// Identifier kinds.
const (
	Opaque Identifier = iota
	Email
	UUID
)

// domain separates subject keys from every other keyed hash.
const domain = "subject"

func (id Identifier) String() string {
	switch id {
	case Email:
		return "email"
	case UUID:
		return "uuid"
	}
	return "opaque"
}

// Normalise returns the identifier in the form that is hashed.
func Normalise(kind Identifier, identifier string) string {
	s := strings.TrimSpace(identifier)
	if kind == Email || kind == UUID {
		s = strings.ToLower(s) // returns s itself, unallocated, when already lower-case ASCII
	}
	return s
}

// Key returns the subject key of an identifier of the given kind, or ""
// when it is blank. Collection stores events under this key only.
func Key(k *minimise.Keyer, kind Identifier, identifier string) string {
	n := Normalise(kind, identifier)
	if n == "" {
		return ""
	}
	return k.Hash(domain, n)
}

// Keys returns the keys to search for an identifier: its key, then the key
// of the identifier exactly as given when that differs (events collected
// before identifiers were normalised are stored under it). Nil when the
// identifier is blank.
func Keys(k *minimise.Keyer, kind Identifier, identifier string) []string {
	n := Normalise(kind, identifier)
	if n == "" {
		return nil
	}
	keys := []string{k.Hash(domain, n)}
	if n != identifier {
		keys = append(keys, k.Hash(domain, identifier))
	}
	return keys
}

// AnyKeys is Keys for an identifier whose kind is not known (an account id
// erased in every dataset, an access-log search without a dataset): its
// keys as an opaque id and, when it has the shape of a UUID or an e-mail
// address, its key as one. Case is folded only for those shapes, so a
// case-sensitive id ("Bob") never reaches another person's ("bob").
func AnyKeys(k *minimise.Keyer, identifier string) []string {
	keys := Keys(k, Opaque, identifier)
	n := Normalise(Opaque, identifier)
	kind := Opaque
	switch {
	case isUUID(n):
		kind = UUID
	case strings.Contains(n, "@"):
		kind = Email
	}
	if key := Key(k, kind, n); kind != Opaque && !slices.Contains(keys, key) {
		keys = append(keys, key)
	}
	return keys
}

// isUUID reports whether s has the form collection accepts for a uuid
// field: 8-4-4-4-12 hexadecimal digits, either case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// Of returns the kind of ds's subject identifier: Email when the registry
// declares it, UUID for a uuid field, otherwise Opaque.
func Of(ds *registry.Dataset) Identifier {
	if ds.Subject == nil {
		return Opaque
	}
	if ds.Subject.Identifier == registry.IdentifierEmail {
		return Email
	}
	if f := ds.Field(ds.Subject.Field); f != nil && f.Type == registry.TypeUUID {
		return UUID
	}
	return Opaque
}

// ForField returns the kind of the values of f, a field of ds: the
// subject's kind for its subject field, otherwise by the field's type. A
// field hashed with `minimise: {hash: true}` is hashed as this kind, so
// its stored hash equals the subject key of the same identifier.
func ForField(ds *registry.Dataset, f *registry.Field) Identifier {
	if ds.Subject != nil && f.Name == ds.Subject.Field {
		return Of(ds)
	}
	if f.Type == registry.TypeUUID {
		return UUID
	}
	return Opaque
}

// Text is the text of a validated value as it is hashed: a string as it
// is, anything else (an integer) as fmt prints it.
func Text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
