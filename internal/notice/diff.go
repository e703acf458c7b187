package notice

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Change is one difference between two notices, as facts; Messages.Change
// says it in plain words ("interaction_data is now kept for 180 days
// instead of 120 days").
type Change struct {
	Kind    string `json:"kind"`
	Dataset string `json:"dataset,omitempty"`
	Field   string `json:"field,omitempty"`
	Role    string `json:"role,omitempty"`
	System  string `json:"system,omitempty"`
	// From and To are the values before and after, written as the
	// notice's JSON writes them (durations as 120d, lists joined by ", ",
	// stored forms as Stored.String, switches as on or off).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Text is a new description, for an added dataset or field.
	Text string `json:"text,omitempty"`
}

// Kinds of change.
const (
	ChangeControllerName     = "controller_name"
	ChangeControllerContact  = "controller_contact"
	ChangeControllerDPO      = "controller_dpo"
	ChangeDatasetAdded       = "dataset_added"
	ChangeDatasetRemoved     = "dataset_removed"
	ChangeDescription        = "description"
	ChangePurpose            = "purpose"
	ChangeBasis              = "lawful_basis"
	ChangeRetention          = "retention"
	ChangeExpires            = "expires"
	ChangeFrom               = "collected_from"
	ChangeOrigins            = "origins"
	ChangeEndpoint           = "endpoint"
	ChangeSample             = "sample_rate"
	ChangeSubject            = "subject"
	ChangeSuppressed         = "suppressed"
	ChangeFieldAdded         = "field_added"
	ChangeFieldRemoved       = "field_removed"
	ChangeFieldDescription   = "field_description"
	ChangeFieldSource        = "field_source"
	ChangeFieldDefinition    = "field_definition"
	ChangeStored             = "stored"
	ChangeCategory           = "category"
	ChangeReceived           = "received"
	ChangeComputed           = "computed"
	ChangeReaderAdded        = "reader_added"
	ChangeReaderRemoved      = "reader_removed"
	ChangeReaderPurposes     = "reader_purposes"
	ChangeReaderFieldsGained = "reader_fields_gained"
	ChangeReaderFieldsLost   = "reader_fields_lost"
	ChangeReaderLookup       = "reader_lookup"
	ChangeReaderRaw          = "reader_raw_identifiers"
	ChangeOptOut             = "opt_out"
	ChangeLocation           = "storage_location"
	ChangeAccessLogReaders   = "access_log_readers"
	ChangeWorkers            = "request_workers"
	ChangeGrace              = "grace"
	ChangeSupport            = "support_notified"
	ChangeSystemAdded        = "system_added"
	ChangeSystemRemoved      = "system_removed"
	ChangeSystemLabel        = "system_label"
	ChangeSystemLocation     = "system_location"
	ChangeSystemSafeguards   = "system_safeguards"
	// ChangeOther: the notices differ in a way none of the kinds above
	// names. Diff reports it rather than nothing, so an empty diff always
	// means the same notice.
	ChangeOther = "other"
)

// Diff lists what changed from a to b. It is empty exactly when the two
// notices say the same thing, so a non-empty diff means a change alters
// the public notice (the data collection review then asks for a legal
// sign-off). Datasets come in b's order, removals after; within a dataset
// its own changes, then its fields', then its readers'.
func Diff(a, b *Notice) []Change {
	var out []Change
	add := func(c Change) { out = append(out, c) }
	str := func(kind, from, to string) {
		if from != to {
			add(Change{Kind: kind, From: from, To: to})
		}
	}
	str(ChangeControllerName, a.Controller.Name, b.Controller.Name)
	str(ChangeControllerContact, a.Controller.Contact, b.Controller.Contact)
	str(ChangeControllerDPO, a.Controller.DPO, b.Controller.DPO)
	for _, db := range b.Datasets {
		da := a.dataset(db.Name)
		if da == nil {
			add(Change{Kind: ChangeDatasetAdded, Dataset: db.Name, To: db.Retention.String(), Text: db.Description})
			continue
		}
		out = append(out, diffDataset(da, &db)...)
	}
	for _, da := range a.Datasets {
		if b.dataset(da.Name) == nil {
			add(Change{Kind: ChangeDatasetRemoved, Dataset: da.Name})
		}
	}
	str(ChangeOptOut, join(a.OptOut), join(b.OptOut))
	str(ChangeLocation, a.Location, b.Location)
	str(ChangeAccessLogReaders, join(a.AccessLogReaders), join(b.AccessLogReaders))
	str(ChangeWorkers, join(a.Requests.Workers), join(b.Requests.Workers))
	str(ChangeGrace, a.Requests.Grace.String(), b.Requests.Grace.String())
	str(ChangeSupport, onOff(a.Requests.SupportNotified), onOff(b.Requests.SupportNotified))
	out = append(out, diffSystems(a.Requests.Systems, b.Requests.Systems)...)
	if len(out) == 0 && !same(a, b) {
		add(Change{Kind: ChangeOther})
	}
	return out
}

func (n *Notice) dataset(name string) *Dataset {
	for i := range n.Datasets {
		if n.Datasets[i].Name == name {
			return &n.Datasets[i]
		}
	}
	return nil
}

func diffDataset(a, b *Dataset) []Change {
	var out []Change
	str := func(kind, from, to string) {
		if from != to {
			out = append(out, Change{Kind: kind, Dataset: b.Name, From: from, To: to})
		}
	}
	if a.Description != b.Description {
		out = append(out, Change{Kind: ChangeDescription, Dataset: b.Name, Text: b.Description})
	}
	str(ChangePurpose, a.Purpose, b.Purpose)
	str(ChangeBasis, a.LawfulBasis, b.LawfulBasis)
	str(ChangeRetention, a.Retention.String(), b.Retention.String())
	str(ChangeExpires, a.Expires, b.Expires)
	str(ChangeFrom, a.From, b.From)
	str(ChangeOrigins, join(a.Origins), join(b.Origins))
	str(ChangeEndpoint, a.Endpoint, b.Endpoint)
	str(ChangeSample, num(a.SampleRate), num(b.SampleRate))
	str(ChangeSubject, subjectText(a.Subject), subjectText(b.Subject))
	// Without suppress_erased the suppression follows the retention,
	// whose change already says it.
	if a.Suppressed != a.Retention || b.Suppressed != b.Retention {
		str(ChangeSuppressed, a.Suppressed.String(), b.Suppressed.String())
	}
	for _, fb := range b.Fields {
		fa := a.Field(fb.Name)
		if fa == nil {
			out = append(out, Change{Kind: ChangeFieldAdded, Dataset: b.Name, Field: fb.Name, To: fb.Stored.String(), Text: fb.Description})
			continue
		}
		fstr := func(kind, from, to string) {
			if from != to {
				out = append(out, Change{Kind: kind, Dataset: b.Name, Field: fb.Name, From: from, To: to})
			}
		}
		if fa.Description != fb.Description {
			out = append(out, Change{Kind: ChangeFieldDescription, Dataset: b.Name, Field: fb.Name, Text: fb.Description})
		}
		fstr(ChangeCategory, strconv.Itoa(fa.Category), strconv.Itoa(fb.Category))
		fstr(ChangeStored, fa.Stored.String(), fb.Stored.String())
		fstr(ChangeFieldSource, fa.Source, fb.Source)
		if !sameDefinition(*fa, fb) {
			out = append(out, Change{Kind: ChangeFieldDefinition, Dataset: b.Name, Field: fb.Name})
		}
	}
	for _, fa := range a.Fields {
		if b.Field(fa.Name) == nil {
			out = append(out, Change{Kind: ChangeFieldRemoved, Dataset: b.Name, Field: fa.Name})
		}
	}
	// What is received and computed follows from the fields and a few
	// settings; a difference the field changes do not explain is named.
	if len(out) == 0 && !same(a.Received, b.Received) {
		out = append(out, Change{Kind: ChangeReceived, Dataset: b.Name})
	}
	if len(out) == 0 && !same(a.Computed, b.Computed) {
		out = append(out, Change{Kind: ChangeComputed, Dataset: b.Name})
	}
	return append(out, diffReaders(a, b)...)
}

// sameDefinition compares what the notice says a field holds, apart from
// the attributes Diff names on their own.
func sameDefinition(a, b Field) bool {
	a.Description, b.Description = "", ""
	a.Category, b.Category = 0, 0
	a.Stored, b.Stored = Stored{}, Stored{}
	a.Source, b.Source = "", ""
	a.Retention, b.Retention = 0, 0
	return same(a, b)
}

// role is what one role may do with a dataset, over all its rules.
type role struct {
	purposes, fields []string
	lookup, raw      bool
}

func byRole(rs []Reader) (map[string]*role, []string) {
	m := map[string]*role{}
	var order []string
	for _, r := range rs {
		x := m[r.Role]
		if x == nil {
			x = &role{}
			m[r.Role] = x
			order = append(order, r.Role)
		}
		for _, p := range r.Purposes {
			if !slices.Contains(x.purposes, p) {
				x.purposes = append(x.purposes, p)
			}
		}
		for _, f := range r.Fields {
			if !slices.Contains(x.fields, f) {
				x.fields = append(x.fields, f)
			}
		}
		x.lookup = x.lookup || r.Lookup
		x.raw = x.raw || r.RawIdentifiers
	}
	return m, order
}

func diffReaders(da, db *Dataset) []Change {
	dataset := db.Name
	ma, orderA := byRole(da.Readers)
	mb, orderB := byRole(db.Readers)
	var out []Change
	for _, name := range orderB {
		rb, ra := mb[name], ma[name]
		if ra == nil {
			out = append(out, Change{Kind: ChangeReaderAdded, Dataset: dataset, Role: name, To: join(rb.purposes)})
			continue
		}
		c := func(kind, from, to string) {
			if from != to {
				out = append(out, Change{Kind: kind, Dataset: dataset, Role: name, From: from, To: to})
			}
		}
		if join(sorted(ra.purposes)) != join(sorted(rb.purposes)) {
			out = append(out, Change{Kind: ChangeReaderPurposes, Dataset: dataset, Role: name, From: join(ra.purposes), To: join(rb.purposes)})
		}
		// Fields the dataset gained or lost are named by their own
		// changes; here only what the role sees of the fields both have.
		var gained, lost []string
		for _, f := range rb.fields {
			if !slices.Contains(ra.fields, f) && da.Field(f) != nil {
				gained = append(gained, f)
			}
		}
		for _, f := range ra.fields {
			if !slices.Contains(rb.fields, f) && db.Field(f) != nil {
				lost = append(lost, f)
			}
		}
		c(ChangeReaderFieldsGained, "", join(gained))
		c(ChangeReaderFieldsLost, "", join(lost))
		c(ChangeReaderLookup, onOff(ra.lookup), onOff(rb.lookup))
		c(ChangeReaderRaw, onOff(ra.raw), onOff(rb.raw))
	}
	for _, name := range orderA {
		if mb[name] == nil {
			out = append(out, Change{Kind: ChangeReaderRemoved, Dataset: dataset, Role: name})
		}
	}
	// Rules reordered or split without changing what anyone may read
	// leave the notice's list different but say the same: Diff's
	// fallback names it.
	return out
}

func diffSystems(a, b []System) []Change {
	find := func(ss []System, name string) *System {
		for i := range ss {
			if ss[i].Name == name {
				return &ss[i]
			}
		}
		return nil
	}
	var out []Change
	for _, sb := range b {
		sa := find(a, sb.Name)
		if sa == nil {
			out = append(out, Change{Kind: ChangeSystemAdded, System: sb.Name, To: sb.Location, Text: sb.Label})
			continue
		}
		c := func(kind, from, to string) {
			if from != to {
				out = append(out, Change{Kind: kind, System: sb.Name, From: from, To: to})
			}
		}
		c(ChangeSystemLabel, sa.Label, sb.Label)
		c(ChangeSystemLocation, sa.Location, sb.Location)
		c(ChangeSystemSafeguards, sa.Safeguards, sb.Safeguards)
	}
	for _, sa := range a {
		if find(b, sa.Name) == nil {
			out = append(out, Change{Kind: ChangeSystemRemoved, System: sa.Name, Text: sa.Label})
		}
	}
	return out
}

// same compares two values as the notice's JSON writes them.
func same(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func join(ss []string) string { return strings.Join(ss, ", ") }

func sorted(ss []string) []string { s := slices.Clone(ss); slices.Sort(s); return s }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func subjectText(s *Subject) string {
	if s == nil {
		return ""
	}
	t := s.Field + " (" + s.Kind
	if s.Hashed {
		t += ", hashed"
	}
	return t + ")"
}

// String writes a stored form compactly: as_sent, rounded 10m, truncated
// 24/48, coarse, hashed, not_stored.
func (s Stored) String() string {
	switch s.Form {
	case Rounded:
		return s.Form + " " + s.Round.String()
	case Truncated:
		return s.Form + " " + strconv.Itoa(s.IPv4) + "/" + strconv.Itoa(s.IPv6)
	}
	return s.Form
}

// parseStored reads what Stored.String wrote.
func parseStored(text string) Stored {
	form, arg, _ := strings.Cut(text, " ")
	s := Stored{Form: form}
	switch form {
	case Rounded:
		s.Round = parseDuration(arg)
	case Truncated:
		v4, v6, _ := strings.Cut(arg, "/")
		s.IPv4, s.IPv6 = atoi(v4), atoi(v6)
	}
	return s
}
