package incident

import (
	"encoding/json"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// BlastRadius is what a breach reached: computed from the access log for
// a credential or a dataset over a window (or from the event store when
// the store itself leaked), kept on the incident as JSON and recomputed
// when the window changes. It is the facts the severity and the reports
// are drafted from.
type BlastRadius struct {
	// What was asked: a credential (as the monitor names it,
	// "method:id"), a dataset, or both; Source is "access_log" or
	// "event_store".
	Credential string    `json:"credential,omitempty"`
	Dataset    string    `json:"dataset,omitempty"`
	Source     string    `json:"source"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Entries is how many allowed access-log entries matched; Records
	// the records they returned.
	Entries int64 `json:"entries"`
	Records int64 `json:"records"`
	// Subjects is the number of distinct people; SubjectKeys their keyed
	// hashes, for notice (capped at SubjectKeysCap; KeysTruncated then).
	Subjects      int64    `json:"subjects"`
	SubjectKeys   []string `json:"subject_keys,omitempty"`
	KeysTruncated bool     `json:"subject_keys_truncated,omitempty"`
	// UpperBound: some dataset's counts are an upper bound (see
	// BlastDataset.UpperBound), and so are the totals.
	UpperBound bool `json:"upper_bound,omitempty"`
	// Datasets reached, with the fields they held at the time and each
	// field's category (registry version in force at the access).
	Datasets []BlastDataset `json:"datasets"`
	// Categories are the distinct field categories reached, ascending.
	Categories []int `json:"categories"`
	// SubjectKinds are the datasets' subject kinds reached
	// ("pseudonymous", "direct"), for the severity's EI.
	SubjectKinds []string  `json:"subject_kinds"`
	ComputedAt   time.Time `json:"computed_at"`
}

// BlastDataset is one dataset a breach reached.
type BlastDataset struct {
	Name        string       `json:"name"`
	Owner       string       `json:"owner,omitempty"`
	SubjectKind string       `json:"subject_kind,omitempty"`
	Entries     int64        `json:"entries"`
	Records     int64        `json:"records"`
	Subjects    int64        `json:"subjects"`
	Fields      []BlastField `json:"fields"`
	// UpperBound says Records and Subjects are what the dataset held at
	// the last access rather than what was returned: the source does not
	// say which rows a read returned (a database role's SELECT in the
	// pgaudit log), so everything the table held could have been read.
	UpperBound bool `json:"upper_bound,omitempty"`
}

// BlastField is one field of a reached dataset.
type BlastField struct {
	Name     string `json:"name"`
	Category int    `json:"category"`
}

// SubjectKeysCap bounds the keys kept on the incident; the count is exact
// either way, and the full list is recomputed when people are told.
const SubjectKeysCap = 100000

// Severity is the ENISA assessment (SE = DPC × EI + CB): steward's
// pre-score from the blast radius, each factor as a person adjusted it
// with the reason, the level, what it proposes for Art. 33 and 34, and
// the person's decision with reasoning.
type Severity struct {
	// DPC (data processing context, 1–4), EI (ease of identification,
	// 0.25–1) and CB (circumstances of breach, sum of its parts).
	DPC Factor `json:"dpc"`
	EI  Factor `json:"ei"`
	CB  CB     `json:"cb"`
	// Score is DPC × EI + CB with the adjusted values; Level is low,
	// medium, high or very_high (low < 2 ≤ medium < 3 ≤ high < 4 ≤ very high).
	Score float64 `json:"score"`
	Level string  `json:"level"`
	// Proposed is what the level suggests; Decided what a person decided
	// (nil while undecided).
	Proposed Applicability  `json:"proposed"`
	Decided  *Applicability `json:"decided,omitempty"`
	// DecidedBy, DecidedAt and Reasoning record the decision.
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	Reasoning string    `json:"reasoning,omitempty"`
	// AssessedBy and AssessedAt are the last adjustment.
	AssessedBy string    `json:"assessed_by,omitempty"`
	AssessedAt time.Time `json:"assessed_at,omitzero"`
}

// Factor is one ENISA factor: steward's pre-score with why, and the value
// in force (the pre-score until a person adjusts it, with a reason).
type Factor struct {
	Pre        float64 `json:"pre"`
	PreWhy     string  `json:"pre_why"`
	Value      float64 `json:"value"`
	Adjusted   bool    `json:"adjusted,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	AdjustedBy string  `json:"adjusted_by,omitempty"`
}

// CB is the circumstances of the breach: loss of confidentiality,
// integrity and availability, and malicious intent, each a factor.
type CB struct {
	Confidentiality Factor  `json:"confidentiality"`
	Integrity       Factor  `json:"integrity"`
	Availability    Factor  `json:"availability"`
	Malicious       Factor  `json:"malicious"`
	Total           float64 `json:"total"`
}

// Applicability is whether the authority must be notified (Art. 33) and
// the people told (Art. 34).
type Applicability struct {
	Art33 bool `json:"art33"`
	Art34 bool `json:"art34"`
}

// BlastOf decodes the incident's blast radius; false when none was
// computed.
func BlastOf(i store.Incident) (BlastRadius, bool) {
	var b BlastRadius
	if len(i.Blast) == 0 || json.Unmarshal(i.Blast, &b) != nil {
		return BlastRadius{}, false
	}
	return b, true
}

// SeverityOf decodes the incident's severity; false when not assessed.
func SeverityOf(i store.Incident) (Severity, bool) {
	var s Severity
	if len(i.Severity) == 0 || json.Unmarshal(i.Severity, &s) != nil {
		return Severity{}, false
	}
	return s, true
}
