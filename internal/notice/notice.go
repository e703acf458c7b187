// Package notice generates steward's public privacy notice and its records
// of processing (GDPR Art. 30) from what steward enforces: the registry
// version, the read policy, the roles' duties, the connectors and the
// consent signals collection honours. Nobody writes the notice by hand,
// so it cannot drift from what steward does.
//
// A Notice is facts in no language (Build makes it, Diff compares two);
// Messages put it into words, one message file per language. The Service
// keeps the notice of every registry version in memory and derives the
// notice's versions and their dates from the registry's.
package notice

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
)

// Notice is everything the public notice says, as facts.
type Notice struct {
	Controller Controller `json:"controller"`
	Datasets   []Dataset  `json:"datasets"`
	// OptOut lists the consent signals collection honours, in the order it
	// checks them: opt-out (the cookie), gpc, dnt.
	OptOut []string `json:"opt_out_signals"`
	// Location is the country steward and its database run in (ISO
	// 3166-1 alpha-2), "" when the settings do not say.
	Location string `json:"storage_location,omitempty"`
	// RateLimited: collection limits requests per client network, which
	// it keeps in memory.
	RateLimited bool `json:"rate_limited"`
	// AccessLogReaders are the roles that may read the access log.
	AccessLogReaders []string `json:"access_log_readers"`
	Requests         Requests `json:"requests"`
}

// Controller is who is responsible for the data, from the registry.
type Controller struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
	DPO     string `json:"dpo,omitempty"`
}

// Where a dataset's events come from.
const (
	FromBrowser = "browser" // a browser sends them (CSRF token or CORS)
	FromServer  = "server"  // the product's own servers send them (write key)
)

// Dataset is what the notice says about one dataset.
type Dataset struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Purpose     string   `json:"purpose"`
	LawfulBasis string   `json:"lawful_basis"`
	Retention   Duration `json:"retention"`
	// Expires is the first day the dataset is no longer collected
	// (YYYY-MM-DD); "" for never.
	Expires string `json:"expires,omitempty"`
	// From is FromBrowser or FromServer; Origins the web sites allowed to
	// send from a browser without steward's token.
	From     string   `json:"collected_from"`
	Origins  []string `json:"origins,omitempty"`
	Endpoint string   `json:"endpoint"`
	// SampleRate is the share of events (or of people, for a dataset with
	// a subject) that is kept.
	SampleRate float64 `json:"sample_rate"`
	// Subject is how the person is found in the dataset; nil when nothing
	// in it is declared to identify anyone.
	Subject *Subject `json:"subject,omitempty"`
	// Suppressed is how long after an erasure collection keeps refusing
	// the person's events (only with a subject).
	Suppressed Duration   `json:"suppressed_after_erasure,omitempty"`
	Received   []Received `json:"received"`
	Fields     []Field    `json:"fields"`
	Computed   []Computed `json:"computed"`
	Readers    []Reader   `json:"readers"`
	Can        []Question `json:"can_answer"`
	Cannot     []Question `json:"cannot_answer"`
}

// Field returns the dataset's field of that name, or nil.
func (d *Dataset) Field(name string) *Field {
	for i := range d.Fields {
		if d.Fields[i].Name == name {
			return &d.Fields[i]
		}
	}
	return nil
}

// Subject says which field identifies the person.
type Subject struct {
	Field string `json:"field"`
	// Kind is "pseudonymous" (a random client id) or "direct" (an account
	// id or e-mail address).
	Kind string `json:"kind"`
	// Hashed: the field itself is stored only as a keyed hash.
	Hashed bool `json:"hashed"`
}

// Field is one declared field: what it is, where it comes from, how it is
// stored and for how long.
type Field struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type"`
	// Category is 1 (technical) to 4 (highly sensitive); 0 for members,
	// which take their field's.
	Category int `json:"category,omitempty"`
	// Source is payload (sent in the event), request (taken from the HTTP
	// request) or server (computed by steward).
	Source   string   `json:"source"`
	Required bool     `json:"required,omitempty"`
	Values   []string `json:"values,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	// Members are an object's declared members, Items an array's items.
	Members []Field `json:"members,omitempty"`
	Items   *Field  `json:"items,omitempty"`
	Stored  Stored  `json:"stored"`
	// Retention is how long the stored value is kept; zero when nothing
	// is stored.
	Retention Duration `json:"retention,omitempty"`
}

// How a value is stored.
const (
	AsSent    = "as_sent"
	Rounded   = "rounded"   // timestamps: Round
	Truncated = "truncated" // IP addresses: IPv4 and IPv6 bits kept
	Coarse    = "coarse"    // user agents: browser family, major version, OS family
	Hashed    = "hashed"    // a keyed hash (HMAC-SHA256)
	NotStored = "not_stored"
)

// Stored is the form a value is kept in after minimisation.
type Stored struct {
	Form  string   `json:"form"`
	Round Duration `json:"round,omitempty"`
	IPv4  int      `json:"ipv4_bits,omitempty"`
	IPv6  int      `json:"ipv6_bits,omitempty"`
}

// What steward receives with an event besides its body's fields.
const (
	RecvBody        = "body"          // the event's fields
	RecvAddress     = "address"       // the connection's IP address
	RecvUserAgent   = "user_agent"    // the User-Agent header
	RecvCookies     = "cookies"       // steward_csrf and steward_optout
	RecvCSRFHeader  = "csrf_header"   // X-CSRF-Token
	RecvOrigin      = "origin"        // Origin, for the allowed sites
	RecvWriteKey    = "write_key"     // Authorization: the server's write key
	RecvGPC         = "gpc"           // Sec-GPC
	RecvDNT         = "dnt"           // DNT
	RecvForwardedIP = "forwarded_for" // X-Forwarded-For from trusted proxies
)

// Received is one thing steward receives with an event.
type Received struct {
	Item string `json:"item"`
	// Fields are the declared fields that keep something of it; none
	// means it is used and not stored.
	Fields []string `json:"stored_in,omitempty"`
}

// What steward computes and stores with every event.
const (
	CompReceiveTime = "receive_time" // the receive time, rounded: Round
	CompSubjectKey  = "subject_key"  // keyed hash of the subject field
	CompEventID     = "event_id"     // the client's random id of the event
	CompField       = "field"        // a declared field steward fills in: Field
)

// Computed is one value steward derives and stores.
type Computed struct {
	Item  string   `json:"item"`
	Field string   `json:"field,omitempty"`
	Round Duration `json:"round,omitempty"`
}

// Reader is one role the read policy lets read a dataset.
type Reader struct {
	Role     string   `json:"role"`
	Purposes []string `json:"purposes"`
	// MaxCategory is the highest field category the role sees; Fields
	// the fields that leaves it.
	MaxCategory int      `json:"max_category"`
	Fields      []string `json:"fields"`
	// Lookup lets the role ask for one person's events by identifier.
	Lookup bool `json:"lookup"`
	// RawIdentifiers lets it see a direct identifier as stored; without
	// it only the keyed subject key is shown.
	RawIdentifiers bool `json:"raw_identifiers"`
}

// Questions the stored data can or cannot answer.
const (
	QFindBySubject = "find_by_subject" // Field: your events can be found by it
	QNetwork       = "network"         // which network (IPv4, IPv6 bits) an event came from
	QServerNetwork = "server_network"  // which network the product's sending server is on
	QTime          = "time"            // when, to within Round
	QNotLinked     = "not_linked"      // which events are yours: nothing identifies you
	QExactAddress  = "exact_address"   // your full IP address
	QNoAddress     = "no_address"      // any IP address at all
	QExactAgent    = "exact_agent"     // your exact browser, version, device
	QExactTime     = "exact_time"      // the exact moment: Round
	QHashedValue   = "hashed_value"    // Field's value: only a keyed hash is kept
	QDropped       = "dropped"         // Field's value: not stored
	QUndeclared    = "undeclared"      // anything not listed: refused
)

// Question is one question the data can or cannot answer.
type Question struct {
	Kind  string   `json:"kind"`
	Field string   `json:"field,omitempty"`
	Round Duration `json:"round,omitempty"`
	IPv4  int      `json:"ipv4_bits,omitempty"`
	IPv6  int      `json:"ipv6_bits,omitempty"`
}

// Requests is how a person asks for erasure or a copy, and which systems
// such a request reaches.
type Requests struct {
	// Path is the request form.
	Path string `json:"path"`
	// Systems are asked to erase or copy the person's data, steward's own
	// event store first.
	Systems []System `json:"systems"`
	// Grace is the time between deactivation and deletion in an erasure.
	Grace Duration `json:"grace"`
	// SupportNotified: support is told a request arrived (its number,
	// type and due date, never who made it), by e-mail or chat webhook.
	SupportNotified bool `json:"support_notified"`
	// Workers are the roles that work requests.
	Workers []string `json:"workers"`
}

// System is one system that holds personal data, as its settings declare
// it.
type System struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Label      string `json:"label,omitempty"`
	Location   string `json:"location,omitempty"`
	Safeguards string `json:"safeguards,omitempty"`
}

// OutsideEEA reports whether the system is declared to run outside the
// European Economic Area, where sending it personal data is a transfer to a
// third country (GDPR Chapter V).
func (s System) OutsideEEA() bool { return s.Location != "" && !InEEA(s.Location) }

// eea lists the members of the European Economic Area: the 27 EU states,
// Iceland, Liechtenstein and Norway.
var eea = map[string]bool{"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true,
	"EE": true, "FI": true, "FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true,
	"LT": true, "LU": true, "MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true,
	"ES": true, "SE": true, "IS": true, "LI": true, "NO": true}

// InEEA reports whether the ISO 3166-1 alpha-2 code names an EEA country.
func InEEA(code string) bool { return eea[code] }

// Duration is a length of time, written as the registry writes it (10m,
// 36h, 120d), in JSON too.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return registry.FormatDuration(time.Duration(d)) }

// MarshalJSON writes "120d".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

var durationText = regexp.MustCompile(`^([0-9]+)(m|h|d|w)$`)

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, ok := durationOf(s)
	if !ok {
		return fmt.Errorf("notice: %q is not a duration like 10m, 36h or 120d", s)
	}
	*d = v
	return nil
}

// parseDuration reads a Duration's text; anything else is zero.
func parseDuration(s string) Duration {
	d, _ := durationOf(s)
	return d
}

func durationOf(s string) (Duration, bool) {
	if s == "0" || s == "" {
		return 0, true
	}
	m := durationText.FindStringSubmatch(s)
	if m == nil {
		// FormatDuration's fallback for a duration in seconds.
		v, err := time.ParseDuration(s)
		return Duration(v), err == nil
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return Duration(time.Duration(n) * unit), true
}
