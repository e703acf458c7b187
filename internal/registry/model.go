// Package registry holds the data registry: the reviewed declaration of every
// dataset steward may collect, its fields, their categories, purposes,
// retention and minimisation. Nothing that is not declared here is stored.
package registry

import (
	"time"
)

// Registry is a loaded, linted registry file.
type Registry struct {
	Controller Controller
	// Datasets in declaration order.
	Datasets []*Dataset
	// Source names the file the registry was read from (for messages).
	Source string

	byName  map[string]*Dataset
	byAlias map[string]*Dataset
	byGlean map[string]*Dataset
	digest  string
}

// Controller is the organisation responsible for the data (GDPR Art. 4(7)).
type Controller struct {
	Name    string
	Contact string
	DPO     string
}

// Empty is a registry with no datasets: what is in force before anything
// was approved.
func Empty(c Controller) *Registry {
	r := &Registry{Controller: c, Source: "no approved registry yet"}
	r.index()
	return r
}

// Digest is the hex SHA-256 of the text r was read from ("" when r was
// not read from text).
func (r *Registry) Digest() string { return r.digest }

// Dataset returns the dataset with the given name, or nil.
func (r *Registry) Dataset(name string) *Dataset { return r.byName[name] }

// DatasetByAlias returns the dataset whose path_alias is path, or nil.
func (r *Registry) DatasetByAlias(path string) *Dataset { return r.byAlias[path] }

// index builds the lookup maps; called by the loader once datasets are final.
func (r *Registry) index() {
	r.byName = make(map[string]*Dataset, len(r.Datasets))
	r.byAlias = make(map[string]*Dataset)
	r.byGlean = make(map[string]*Dataset)
	for _, d := range r.Datasets {
		r.byName[d.Name] = d
		if d.Glean != nil {
			r.byGlean[GleanKey(d.Glean.AppID, d.Glean.Ping)] = d
		}
		if d.PathAlias != "" {
			r.byAlias[d.PathAlias] = d
		}
	}
}

// Dataset is one declared collection.
type Dataset struct {
	Name        string
	Description string
	Purpose     string
	LawfulBasis string
	Retention   time.Duration
	Owner       string
	// Expires is the first day the dataset may no longer be collected;
	// the zero time means "never".
	Expires    time.Time
	PathAlias  string
	SampleRate float64
	// Store names a separate store for this dataset ("" = the default one).
	Store string
	// Subject says how a data subject is found in this dataset; nil when the
	// dataset holds nothing that identifies a subject.
	Subject *Subject
	Access  Access
	// SuppressErased is how long collection keeps refusing the events of a
	// subject after its erasure was purged (the suppress_erased key); zero
	// when not declared, and then the retention applies (SuppressFor).
	SuppressErased time.Duration
	// Glean, when set, receives a Glean ping (see docs/glean.md).
	Glean *GleanPing
	// Fields in declaration order.
	Fields []*Field
	// Line is where the dataset is declared in the registry file.
	Line int

	byName   map[string]*Field
	byMetric map[string]*Field
	// fieldExpiry: some field has an expires of its own, so collection
	// must look (most datasets have none, and pay nothing).
	fieldExpiry bool
}

// FieldExpiry reports whether any field declares its own expiry.
func (d *Dataset) FieldExpiry() bool { return d.fieldExpiry }

// Field returns the field with the given name, or nil.
func (d *Dataset) Field(name string) *Field { return d.byName[name] }

// Expired reports whether the dataset is past its expiry date at now.
func (d *Dataset) Expired(now time.Time) bool {
	return !d.Expires.IsZero() && !now.Before(d.Expires)
}

// SuppressFor is how long after an erasure's purge collection refuses the
// erased subject's events: suppress_erased when declared, else the
// retention. Anything the person sent before the erasure would have
// expired by then anyway.
func (d *Dataset) SuppressFor() time.Duration {
	if d.SuppressErased > 0 {
		return d.SuppressErased
	}
	return d.Retention
}

// MaxCategory is the highest category among the dataset's fields.
func (d *Dataset) MaxCategory() Category {
	var c Category
	for _, f := range d.Fields {
		if f.Category > c {
			c = f.Category
		}
	}
	return c
}

// Subject says which field identifies the data subject.
type Subject struct {
	Field string
	// Kind is "pseudonymous" (a client id) or "direct" (an account id or e-mail).
	Kind string
	// Identifier is "email" when the field holds e-mail addresses, whose
	// case does not tell people apart; "" otherwise (the field's type then
	// decides how the identifier is normalised, see internal/subject).
	Identifier string
}

// IdentifierEmail marks a subject field that holds e-mail addresses.
const IdentifierEmail = "email"

// Access says who may write to a dataset's collection endpoint.
type Access struct {
	// Origins, when set, lets browsers from these origins write through CORS
	// instead of the CSRF double-submit token.
	Origins []string
	// ServerToServer datasets are written by backends holding a write key;
	// browser CSRF does not apply to them.
	ServerToServer bool
	// WriteKeySHA256 is the hex SHA-256 of the dataset's write key; the key
	// itself never appears in the registry.
	WriteKeySHA256 string
}

// Type is a field type; the list is closed.
type Type string

// Field types.
const (
	TypeString    Type = "string"
	TypeInteger   Type = "integer"
	TypeNumber    Type = "number"
	TypeBoolean   Type = "boolean"
	TypeTimestamp Type = "timestamp"
	TypeEnum      Type = "enum"
	TypeArray     Type = "array"
	TypeObject    Type = "object"
	TypeIP        Type = "ip"
	TypeUserAgent Type = "user_agent"
	TypeUUID      Type = "uuid"
)

// Types lists every valid field type.
var Types = []Type{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeTimestamp,
	TypeEnum, TypeArray, TypeObject, TypeIP, TypeUserAgent, TypeUUID}

// Category is the data collection category from the review process.
type Category int

// Categories, as in the data collection review guidelines.
const (
	CategoryTechnical       Category = 1
	CategoryInteraction     Category = 2
	CategoryWebActivity     Category = 3
	CategoryHighlySensitive Category = 4
)

// String returns the category's canonical name.
func (c Category) String() string {
	switch c {
	case CategoryTechnical:
		return "technical"
	case CategoryInteraction:
		return "interaction"
	case CategoryWebActivity:
		return "web_activity"
	case CategoryHighlySensitive:
		return "highly_sensitive"
	}
	return "unknown"
}

// Origin says where a field's value comes from.
type Origin string

// Field sources.
const (
	// SourcePayload values are sent by the client in the event body.
	SourcePayload Origin = "payload"
	// SourceRequest values are taken from the HTTP request itself (client
	// address for ip fields, User-Agent header for user_agent fields).
	SourceRequest Origin = "request"
	// SourceServer values are computed by steward (the receive time for
	// timestamp fields).
	SourceServer Origin = "server"
)

// Field is one declared field of a dataset.
type Field struct {
	Name        string
	Type        Type
	Category    Category
	Description string
	Required    bool
	Source      Origin

	// Constraints; zero values mean "no constraint" except where noted.
	MaxLength int      // string: maximum length in bytes
	Min, Max  *float64 // integer, number
	Values    []string // enum: allowed values
	MaxItems  int      // array: maximum number of items
	Items     *Field   // array: the type of each item (nil = any JSON scalar)
	Fields    []*Field // object: declared members (empty = any members, limited by MaxKeys)
	MaxKeys   int      // object without declared members: maximum number of keys

	Minimise Minimise
	// Expires is the first day a top-level field may no longer be
	// collected, when it expires before its dataset; zero means "with the
	// dataset".
	Expires time.Time
	// Unclassified: imported without a category (a Glean metric without
	// data_sensitivity). It counts as category 4 and a version holding it
	// cannot be published until a person assigns the category.
	Unclassified bool
	// Glean, when set, names the Glean metric the field holds.
	Glean *GleanMetric
	Line  int
}

// Expired reports whether the field is past its own expiry date at now.
func (f *Field) Expired(now time.Time) bool {
	return !f.Expires.IsZero() && !now.Before(f.Expires)
}

// Minimise says how a value is transformed before it is first written.
type Minimise struct {
	// Round truncates timestamps down to a multiple of this duration.
	Round time.Duration
	// TruncateV4 and TruncateV6 are the prefix lengths kept of an IP address
	// (defaults 24 and 48 for ip fields).
	TruncateV4, TruncateV6 int
	// Coarse reduces a user agent to browser family, major version and OS family.
	Coarse bool
	// Hash replaces the value with a keyed hash (HMAC-SHA256 with the server
	// secret), so a dump does not reveal it but erasure by identity still works.
	Hash bool
	// Drop discards the value entirely (it is accepted but never stored).
	Drop bool
}
