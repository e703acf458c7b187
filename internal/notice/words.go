package notice

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The notice in words: every sentence is a message of the language's file
// with the facts filled in. The page, the disclaimers and the history's
// diff all say things through these methods, so they say them alike.

// Role is a role's name as people read it ("analysts").
func (m *Messages) Role(role string) string {
	if s := m.Opt("role." + role + ".name"); s != "" {
		return s
	}
	return strings.ReplaceAll(role, "_", " ")
}

// Duties are what a role does, as docs/roles.md documents it.
func (m *Messages) Duties(role string) string { return m.Opt("role." + role + ".duties") }

// Roles names several roles.
func (m *Messages) Roles(roles []string) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = m.Role(r)
	}
	return m.List(names)
}

// Purpose is a declared purpose in words; one the message file does not
// know reads as its name with spaces.
func (m *Messages) Purpose(p string) string {
	if s := m.Opt("purpose." + p); s != "" {
		return s
	}
	return strings.ReplaceAll(p, "_", " ")
}

// Purposes names several purposes.
func (m *Messages) Purposes(ps []string) string {
	words := make([]string, len(ps))
	for i, p := range ps {
		words[i] = m.Purpose(p)
	}
	return m.List(words)
}

// Basis is a lawful basis with its article.
func (m *Messages) Basis(b string) string {
	if s := m.Opt("basis." + b); s != "" {
		return s
	}
	return strings.ReplaceAll(b, "_", " ")
}

// Category is a field category's number and name.
func (m *Messages) Category(c int) string {
	return m.T("category", "n", strconv.Itoa(c), "name", m.T("category."+strconv.Itoa(c)))
}

// Signal is a consent signal in words.
func (m *Messages) Signal(s string) string { return m.T("signal." + s) }

// Type says what kind of value a field holds: "one of primary or
// secondary", "a whole number from 0 to 1000".
func (m *Messages) Type(f Field) string {
	var s string
	switch f.Type {
	case "enum":
		s = m.T("type.enum", "values", m.ListOr(f.Values))
	default:
		s = m.T("type." + f.Type)
	}
	if f.Min != nil && f.Max != nil {
		s += " " + m.T("type.range", "min", num(*f.Min), "max", num(*f.Max))
	}
	if len(f.Members) > 0 {
		names := make([]string, len(f.Members))
		for i, c := range f.Members {
			names[i] = c.Name + " (" + m.Type(c) + ")"
		}
		s += " " + m.T("type.members", "members", m.List(names))
	}
	if f.Items != nil {
		s += " " + m.T("type.items", "items", m.Type(*f.Items))
	}
	return s
}

// ListOr joins alternatives: "a, b or c".
func (m *Messages) ListOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return m.T("list.or", "items", strings.Join(items[:len(items)-1], m.T("list.comma")), "last", items[len(items)-1])
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Source says where a field's value comes from, "" for the event body.
// For a dataset the product's servers send, the request is theirs.
func (m *Messages) Source(d Dataset, f Field) string {
	switch f.Source {
	case "request":
		if d.From == FromServer {
			return m.T("source.request." + f.Type + ".server")
		}
		return m.T("source.request." + f.Type)
	case "server":
		return m.T("source.server")
	}
	return ""
}

// StoredAs says how a value is kept.
func (m *Messages) StoredAs(s Stored) string {
	switch s.Form {
	case Rounded:
		return m.T("stored.rounded", "round", m.Duration(s.Round.D()))
	case Truncated:
		return m.T("stored.truncated", "v4", strconv.Itoa(s.IPv4), "v6", strconv.Itoa(s.IPv6))
	}
	return m.T("stored." + s.Form)
}

// Kept is a field's retention in words, or a dash when nothing is kept.
func (m *Messages) Kept(f Field) string {
	if f.Stored.Form == NotStored {
		return "—"
	}
	return m.Duration(f.Retention.D())
}

// From says who sends a dataset's events.
func (m *Messages) From(d Dataset) string {
	if d.From == FromServer {
		return m.T("from.server")
	}
	s := m.T("from.browser", "endpoint", d.Endpoint)
	if len(d.Origins) > 0 {
		s += " " + m.T("from.origins", "origins", m.List(d.Origins))
	}
	return s
}

// Subject says what links a dataset to a person.
func (m *Messages) Subject(d Dataset) string {
	if d.Subject == nil {
		return m.T("subject.none")
	}
	return m.T("subject."+d.Subject.Kind, "field", d.Subject.Field)
}

// Sample says what share is kept, "" when everything is.
func (m *Messages) Sample(d Dataset) string {
	if d.SampleRate >= 1 {
		return ""
	}
	if d.Subject != nil {
		return m.T("sample.people", "share", m.Percent(d.SampleRate))
	}
	return m.T("sample.events", "share", m.Percent(d.SampleRate))
}

// Expires says until when a dataset is collected.
func (m *Messages) Expires(d Dataset) string {
	return m.expiresText(d.Expires)
}

// Received is one thing steward receives, what it is used for and
// whether it is kept.
func (m *Messages) Received(n *Notice, d Dataset, r Received) string {
	key := "recv." + r.Item
	if d.From == FromServer && (r.Item == RecvAddress || r.Item == RecvUserAgent) {
		key += ".server"
	}
	s := m.T(key)
	if r.Item == RecvAddress && n.RateLimited {
		s += " " + m.T("recv.address.limit")
	}
	switch r.Item {
	case RecvBody:
		return s
	case RecvAddress, RecvUserAgent, RecvForwardedIP:
		if len(r.Fields) > 0 {
			return s + " " + m.T("recv.kept", "fields", m.List(r.Fields))
		}
	}
	return s + " " + m.T("recv.not_kept")
}

// Computed is one value steward adds to each event.
func (m *Messages) Computed(d Dataset, c Computed) string {
	switch c.Item {
	case CompReceiveTime:
		return m.T("comp.receive_time", "round", m.Duration(c.Round.D()))
	case CompSubjectKey:
		return m.T("comp.subject_key", "field", c.Field)
	case CompField:
		f := d.Field(c.Field)
		if f == nil {
			return c.Field
		}
		return m.T("comp.field", "field", f.Name, "source", m.Source(d, *f))
	}
	return m.T("comp." + c.Item)
}

// capitalise starts a sentence that begins with a role's name.
func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Reader is what one role may read of a dataset, for which purposes
// (Duties says what the role is for).
func (m *Messages) Reader(d Dataset, r Reader) string {
	var fields string
	switch {
	case len(r.Fields) == 0:
		fields = m.T("reader.fields.none")
	case len(r.Fields) == len(d.Fields):
		fields = m.T("reader.fields.all")
	default:
		fields = m.T("reader.fields.some", "max", strconv.Itoa(r.MaxCategory), "fields", m.List(r.Fields))
	}
	s := m.T("reader", "role", capitalise(m.Role(r.Role)), "purposes", m.Purposes(r.Purposes), "fields", fields)
	// Lookup finds one person by the subject field; without one there
	// is nothing to look up by.
	switch {
	case d.Subject == nil:
	case r.Lookup:
		s += " " + m.T("reader.lookup")
	default:
		s += " " + m.T("reader.no_lookup")
	}
	if d.Subject != nil && d.Subject.Kind == "direct" && !d.Subject.Hashed {
		if r.RawIdentifiers {
			s += " " + m.T("reader.raw", "field", d.Subject.Field)
		} else {
			s += " " + m.T("reader.key_only", "field", d.Subject.Field)
		}
	}
	return s
}

// Question is one thing the stored data can or cannot tell.
func (m *Messages) Question(q Question) string {
	switch q.Kind {
	case QTime:
		if q.Round == 0 {
			return m.T("q.time.exact")
		}
		return m.T("q.time", "round", m.Duration(q.Round.D()))
	case QExactTime:
		return m.T("q.exact_time", "round", m.Duration(q.Round.D()))
	case QNetwork, QServerNetwork:
		return m.T("q."+q.Kind, "field", q.Field, "v4", strconv.Itoa(q.IPv4), "v6", strconv.Itoa(q.IPv6))
	}
	return m.T("q."+q.Kind, "field", q.Field)
}

// OptOutFor says which choices stop a dataset's collection.
func (m *Messages) OptOutFor(n *Notice, d Dataset) string {
	if d.From == FromServer {
		return m.T("optout.server")
	}
	if len(n.OptOut) == 0 {
		return m.T("optout.none")
	}
	names := make([]string, len(n.OptOut))
	for i, s := range n.OptOut {
		names[i] = m.T("signal.short." + s)
	}
	return capitalise(m.T("optout.browser", "signals", m.ListOr(names)))
}

// Erasure says what a request for erasure or a copy does to a dataset.
func (m *Messages) Erasure(d Dataset) string {
	if d.Subject == nil {
		return m.T("erase.none", "retention", m.Duration(d.Retention.D()))
	}
	return m.T("erase.subject", "field", d.Subject.Field, "suppressed", m.Duration(d.Suppressed.D()))
}

// Where says where a dataset's events are kept.
func (m *Messages) Where(n *Notice) string {
	if n.Location == "" {
		return m.T("where.store")
	}
	return m.T("where.store.in", "country", m.Country(n.Location))
}

// System names a system that holds personal data, with where it runs.
func (m *Messages) System(s System) string {
	name := s.Label
	if name == "" {
		if s.Kind == "events" {
			name = m.T("system.events")
		} else {
			name = s.Name
		}
	}
	var where string
	switch {
	case s.Location == "":
		where = m.T("system.no_location")
	case s.OutsideEEA() && s.Safeguards != "":
		where = m.T("system.transfer", "country", m.Country(s.Location), "safeguards", s.Safeguards)
	case s.OutsideEEA():
		where = m.T("system.transfer.undeclared", "country", m.Country(s.Location))
	default:
		where = m.T("system.in", "country", m.Country(s.Location))
	}
	return m.T("system", "name", name, "where", where)
}

// DisclaimerContext says where a dataset's disclaimer belongs (seed 004's
// "context").
func (m *Messages) DisclaimerContext(d Dataset) string {
	if d.From == FromServer {
		return m.T("disclaimer.context.server", "dataset", d.Name)
	}
	if len(d.Origins) > 0 {
		return m.T("disclaimer.context.origins", "dataset", d.Name, "origins", m.List(d.Origins))
	}
	return m.T("disclaimer.context.browser", "dataset", d.Name)
}

// Disclaimer is the short text a product shows wherever the dataset is
// collected (seed 004's "user-facing disclaimer"), ending with the link to
// the full notice at url.
func (m *Messages) Disclaimer(n *Notice, d Dataset, url string) string {
	return m.DisclaimerBody(n, d) + " " + m.T("disclaimer.link", "url", url)
}

// DisclaimerBody is the disclaimer without its link, for a page that
// makes the link an anchor (DisclaimerLink is its text).
func (m *Messages) DisclaimerBody(n *Notice, d Dataset) string {
	kept := 0
	var forms []string
	for _, f := range d.Fields {
		if f.Stored.Form == NotStored {
			continue
		}
		kept++
		if f.Stored.Form != AsSent {
			forms = append(forms, m.T("stored.short."+f.Stored.Form, "field", f.Name, "round", m.Duration(f.Stored.Round.D())))
		}
	}
	parts := []string{m.T("disclaimer.collects", "controller", n.Controller.Name, "description", strings.TrimSuffix(d.Description, "."),
		"purpose", m.Purpose(d.Purpose))}
	stored := m.N("disclaimer.stored", kept, "retention", m.Duration(d.Retention.D()))
	if len(forms) > 0 {
		stored += " " + m.T("disclaimer.minimised", "forms", m.List(forms))
	}
	parts = append(parts, stored)
	if d.Subject == nil {
		parts = append(parts, m.T("disclaimer.not_linked"))
	} else {
		parts = append(parts, m.T("disclaimer.linked", "field", d.Subject.Field))
	}
	var roles []string
	for _, r := range d.Readers {
		if !slices.Contains(roles, r.Role) {
			roles = append(roles, r.Role)
		}
	}
	if len(roles) == 0 {
		parts = append(parts, m.T("disclaimer.readers.none"))
	} else {
		parts = append(parts, m.T("disclaimer.readers", "roles", m.Roles(roles)))
	}
	parts = append(parts, m.OptOutFor(n, d))
	return strings.Join(parts, " ")
}

// Change is one change of the notice in plain words.
func (m *Messages) Change(c Change) string {
	from, to := c.From, c.To
	key := "change." + c.Kind
	switch c.Kind {
	case ChangeRetention, ChangeSuppressed, ChangeGrace:
		a, b := parseDuration(c.From), parseDuration(c.To)
		from, to = m.Duration(a.D()), m.Duration(b.D())
		if b > a {
			key += ".longer"
		} else {
			key += ".shorter"
		}
	case ChangeDatasetAdded:
		to = m.Duration(parseDuration(c.To).D())
	case ChangeStored, ChangeFieldAdded:
		from, to = m.StoredAs(parseStored(c.From)), m.StoredAs(parseStored(c.To))
	case ChangeCategory:
		from, to = m.Category(atoi(c.From)), m.Category(atoi(c.To))
	case ChangePurpose:
		from, to = m.Purpose(c.From), m.Purpose(c.To)
	case ChangeBasis:
		from, to = m.Basis(c.From), m.Basis(c.To)
	case ChangeFieldSource:
		from, to = m.T("source.name."+c.From), m.T("source.name."+c.To)
	case ChangeReaderAdded, ChangeReaderPurposes:
		from, to = m.Purposes(splitList(c.From)), m.Purposes(splitList(c.To))
	case ChangeReaderFieldsGained:
		to = m.List(splitList(c.To))
	case ChangeReaderFieldsLost:
		to = m.List(splitList(c.To))
	case ChangeOrigins:
		from, to = m.listOrNone(splitList(c.From)), m.listOrNone(splitList(c.To))
	case ChangeReaderLookup, ChangeReaderRaw, ChangeSupport:
		key += "." + c.To
	case ChangeOptOut:
		from, to = m.listOrNone(signalNames(m, splitList(c.From))), m.listOrNone(signalNames(m, splitList(c.To)))
	case ChangeAccessLogReaders, ChangeWorkers:
		from, to = m.listOrNone(rolesWords(m, splitList(c.From))), m.listOrNone(rolesWords(m, splitList(c.To)))
	case ChangeLocation, ChangeSystemLocation, ChangeSystemAdded:
		from, to = m.countryOrNone(c.From), m.countryOrNone(c.To)
	case ChangeFrom:
		from, to = m.T("from.short."+c.From), m.T("from.short."+c.To)
	case ChangeSubject:
		from, to = m.orNone(c.From), m.orNone(c.To)
	case ChangeSample:
		from, to = m.Percent(atof(c.From)), m.Percent(atof(c.To))
	case ChangeExpires:
		from, to = m.expiresText(c.From), m.expiresText(c.To)
	case ChangeControllerDPO, ChangeSystemLabel, ChangeSystemSafeguards:
		from, to = m.orNone(c.From), m.orNone(c.To)
	}
	system := c.System
	if c.Text != "" && (c.Kind == ChangeSystemAdded || c.Kind == ChangeSystemRemoved) {
		system = c.Text + " (" + c.System + ")"
	}
	out := m.T(key, "dataset", c.Dataset, "field", c.Field, "role", m.Role(c.Role), "system", system,
		"from", from, "to", to, "text", sentence(c.Text))
	if c.Role != "" && strings.HasPrefix(out, m.Role(c.Role)) {
		out = capitalise(out)
	}
	return out
}

// sentence ends a description with a full stop if it has none.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func (m *Messages) listOrNone(items []string) string {
	if len(items) == 0 {
		return m.T("none")
	}
	return m.List(items)
}

func (m *Messages) orNone(s string) string {
	if s == "" {
		return m.T("none")
	}
	return s
}

func (m *Messages) countryOrNone(code string) string {
	if code == "" {
		return m.T("system.no_location")
	}
	return m.Country(code)
}

func (m *Messages) expiresText(s string) string {
	if s == "" {
		return m.T("expires.never")
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return m.Date(t)
	}
	return s
}

func signalNames(m *Messages, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = m.T("signal.short." + s)
	}
	return out
}

func rolesWords(m *Messages, rs []string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = m.Role(r)
	}
	return out
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func atof(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ", ")
}
