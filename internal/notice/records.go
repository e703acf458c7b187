package notice

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
)

// Records are the records of processing activities GDPR Art. 30(1) asks a
// controller to keep, generated like the notice: one activity per dataset,
// plus the two kinds of processing steward does itself (answering data
// subject requests and logging staff reads). The JSON export follows
// docs/records.schema.json.
type Records struct {
	GeneratedAt     time.Time `json:"generated_at"`
	Language        string    `json:"language"`
	NoticeVersion   int       `json:"notice_version"`
	RegistryVersion int64     `json:"registry_version"`
	// Controller is Art. 30(1)(a).
	Controller Controller `json:"controller"`
	Activities []Activity `json:"activities"`
	// Measures are Art. 30(1)(g): the technical and organisational
	// measures steward itself applies.
	Measures []Measure `json:"measures"`

	m *Messages // the language, for Write
}

// Activity is one processing activity.
type Activity struct {
	ID string `json:"id"`
	// Kind is "dataset", "data_subject_requests" or "access_log".
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Purposes and LawfulBasis are Art. 30(1)(b).
	Purposes    []string `json:"purposes"`
	LawfulBasis string   `json:"lawful_basis"`
	// DataSubjects and PersonalData are Art. 30(1)(c).
	DataSubjects string         `json:"data_subjects"`
	PersonalData []DataCategory `json:"personal_data"`
	// Recipients are Art. 30(1)(d), Transfers Art. 30(1)(e).
	Recipients []Recipient `json:"recipients"`
	Transfers  []Transfer  `json:"transfers"`
	// ErasureLimit is Art. 30(1)(f), in words; Retention the dataset's
	// retention when it has one.
	ErasureLimit string   `json:"erasure_time_limit"`
	Retention    Duration `json:"retention,omitempty"`
}

// DataCategory is one category of personal data and what holds it.
type DataCategory struct {
	// Category is the registry's 1–4 for a dataset's fields, 0 for
	// steward's own activities.
	Category int      `json:"category"`
	Name     string   `json:"name"`
	Fields   []string `json:"fields"`
}

// Recipient is one kind of recipient.
type Recipient struct {
	// Kind is "role" (staff in a role, inside the controller) or
	// "system" (a system that receives personal data).
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Location    string `json:"location,omitempty"`
}

// Transfer is personal data going to a country outside the EEA.
type Transfer struct {
	Recipient  string `json:"recipient"`
	Country    string `json:"country"`
	Safeguards string `json:"safeguards"`
}

// Measure is one technical or organisational measure.
type Measure struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

// Measures are the settings the records' measures are read from.
type Measures struct {
	// Database is "sqlite" or "postgres"; DatabaseTLS says whether its
	// connection is encrypted: "local" (an embedded file), "off",
	// "required" or "verified".
	Database, DatabaseTLS string
	// HTTPS: people reach steward over HTTPS (the public URL) and its
	// cookies are marked Secure.
	HTTPS bool
	// MailServer is the SMTP host ("" for none); MailTLS its STARTTLS
	// setting (required, opportunistic, off).
	MailServer, MailTLS string
	// RetentionEvery is the sweep interval; CheckpointEvery the access
	// log's signing interval (0: never) and Witness whether the signed
	// heads leave the database.
	RetentionEvery, CheckpointEvery time.Duration
	Witness                         bool
}

// Records generates the records of processing for the notice in force, in
// the language of m.
func (s *Service) Records(ctx context.Context, m *Messages, now time.Time) (*Records, error) {
	v, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	return BuildRecords(v, s.Measures, m, now), nil
}

// BuildRecords generates the records of processing from a notice version.
func BuildRecords(v Version, ms Measures, m *Messages, now time.Time) *Records {
	n := v.Notice
	r := &Records{GeneratedAt: now.UTC().Truncate(time.Second), Language: m.Lang(), NoticeVersion: v.Number,
		RegistryVersion: v.Registry, Controller: n.Controller, m: m}
	store := System{Name: "steward", Kind: "events", Location: n.Location}
	for _, d := range n.Datasets {
		r.Activities = append(r.Activities, datasetActivity(n, d, store, m))
	}
	r.Activities = append(r.Activities, requestsActivity(n, ms, m), accessLogActivity(n, store, m))
	r.Measures = measures(n, ms, m)
	return r
}

func datasetActivity(n *Notice, d Dataset, store System, m *Messages) Activity {
	a := Activity{ID: d.Name, Kind: "dataset", Name: d.Name, Description: d.Description,
		Purposes: []string{m.Purpose(d.Purpose)}, LawfulBasis: m.Basis(d.LawfulBasis),
		DataSubjects: m.T("records.subjects." + d.From + "." + subjectKind(d)), Retention: d.Retention,
		ErasureLimit: m.T("records.erasure.dataset", "retention", m.Duration(d.Retention.D()))}
	if d.Subject == nil {
		a.ErasureLimit = m.T("records.erasure.dataset.none", "retention", m.Duration(d.Retention.D()))
	}
	byCat := map[int][]string{}
	for _, f := range d.Fields {
		if f.Stored.Form != NotStored {
			byCat[f.Category] = append(byCat[f.Category], f.Name)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(byCat)) {
		a.PersonalData = append(a.PersonalData, DataCategory{Category: c, Name: m.T("category." + strconv.Itoa(c)), Fields: byCat[c]})
	}
	seen := map[string]bool{}
	for _, rd := range d.Readers {
		if seen[rd.Role] {
			continue
		}
		seen[rd.Role] = true
		var purposes []string
		for _, x := range d.Readers {
			if x.Role == rd.Role {
				purposes = append(purposes, x.Purposes...)
			}
		}
		a.Recipients = append(a.Recipients, Recipient{Kind: "role", Name: rd.Role,
			Description: capitalise(m.T("records.recipient.role", "role", m.Role(rd.Role), "purposes", m.Purposes(purposes)))})
	}
	if len(a.Recipients) == 0 {
		a.Recipients = []Recipient{}
	}
	a.Transfers = transfers([]System{store}, m)
	return a
}

func subjectKind(d Dataset) string {
	if d.Subject == nil {
		return "none"
	}
	return d.Subject.Kind
}

func requestsActivity(n *Notice, ms Measures, m *Messages) Activity {
	a := Activity{ID: "data_subject_requests", Kind: "data_subject_requests", Name: m.T("records.requests.name"),
		Description: m.T("records.requests.description"), Purposes: []string{m.T("records.requests.purpose")},
		LawfulBasis:  m.T("records.requests.basis"),
		DataSubjects: m.T("records.requests.subjects"),
		PersonalData: []DataCategory{{Name: m.T("records.requests.data.identity"), Fields: []string{"email", "account_id", "app_user_id", "facebook_user_id"}},
			{Name: m.T("records.requests.data.request"), Fields: []string{"type", "status", "question", "answer", "history"}}},
		ErasureLimit: m.T("records.erasure.requests", "grace", m.Duration(n.Requests.Grace.D())),
	}
	for _, role := range n.Requests.Workers {
		a.Recipients = append(a.Recipients, Recipient{Kind: "role", Name: role,
			Description: capitalise(m.T("records.recipient.role", "role", m.Role(role), "purposes", m.T("records.requests.purpose")))})
	}
	for _, sys := range n.Requests.Systems {
		a.Recipients = append(a.Recipients, Recipient{Kind: "system", Name: sys.Name, Location: sys.Location,
			Description: m.System(sys)})
	}
	if ms.MailServer != "" {
		a.Recipients = append(a.Recipients, Recipient{Kind: "system", Name: ms.MailServer,
			Description: m.T("records.recipient.mail", "host", ms.MailServer)})
	}
	a.Transfers = transfers(n.Requests.Systems, m)
	return a
}

func accessLogActivity(n *Notice, store System, m *Messages) Activity {
	a := Activity{ID: "access_log", Kind: "access_log", Name: m.T("records.access.name"),
		Description: m.T("records.access.description"), Purposes: []string{m.T("records.access.purpose")},
		LawfulBasis: m.T("records.access.basis"), DataSubjects: m.T("records.access.subjects"),
		PersonalData: []DataCategory{{Name: m.T("records.access.data"),
			Fields: []string{"actor", "role", "purpose", "dataset", "query", "subject_keys", "client_network", "at"}}},
		ErasureLimit: m.T("records.erasure.access")}
	for _, role := range n.AccessLogReaders {
		a.Recipients = append(a.Recipients, Recipient{Kind: "role", Name: role,
			Description: capitalise(m.T("records.recipient.role", "role", m.Role(role), "purposes", m.T("records.access.purpose")))})
	}
	a.Transfers = transfers([]System{store}, m)
	return a
}

func transfers(systems []System, m *Messages) []Transfer {
	out := []Transfer{}
	for _, s := range systems {
		if !s.OutsideEEA() {
			continue
		}
		safeguards := s.Safeguards
		if safeguards == "" {
			safeguards = m.T("records.transfer.undeclared")
		}
		name := s.Label
		if name == "" {
			name = s.Name
		}
		out = append(out, Transfer{Recipient: name, Country: s.Location, Safeguards: safeguards})
	}
	return out
}

func measures(n *Notice, ms Measures, m *Messages) []Measure {
	forms := map[string]int{}
	fields := 0
	for _, d := range n.Datasets {
		for _, f := range d.Fields {
			fields++
			if f.Stored.Form != AsSent {
				forms[f.Stored.Form]++
			}
		}
	}
	var minimised []string
	for _, form := range []string{Rounded, Truncated, Coarse, Hashed, NotStored} {
		if forms[form] > 0 {
			minimised = append(minimised, m.N("records.measure.form."+form, forms[form]))
		}
	}
	out := []Measure{
		{"minimisation", m.T("records.measure.minimisation", "fields", strconv.Itoa(fields), "forms", m.listOrNone(minimised))},
		{"purpose_bound_reads", m.T("records.measure.reads")},
		{"access_log", m.T("records.measure.access_log")},
	}
	switch {
	case ms.CheckpointEvery > 0 && ms.Witness:
		out = append(out, Measure{"checkpoints", m.T("records.measure.checkpoints.witness", "every", m.Duration(ms.CheckpointEvery))})
	case ms.CheckpointEvery > 0:
		out = append(out, Measure{"checkpoints", m.T("records.measure.checkpoints", "every", m.Duration(ms.CheckpointEvery))})
	}
	out = append(out,
		Measure{"retention", m.T("records.measure.retention", "every", m.Duration(ms.RetentionEvery))},
		Measure{"erasure", m.N("records.measure.erasure", len(n.Requests.Systems), "grace", m.Duration(n.Requests.Grace.D()))},
		Measure{"consent", m.T("records.measure.consent", "signals", m.listOrNone(signalNames(m, n.OptOut)))},
		Measure{"access_control", m.T("records.measure.access_control")},
		Measure{"keyed_hashes", m.T("records.measure.keyed_hashes")},
		Measure{"database_encryption", m.T("records.measure.database." + ms.Database + "." + ms.DatabaseTLS)},
		Measure{"https", m.T("records.measure.https." + onOff(ms.HTTPS))},
	)
	if ms.MailServer != "" {
		out = append(out, Measure{"mail_encryption", m.T("records.measure.mail."+ms.MailTLS, "host", ms.MailServer)})
	}
	return out
}

// RecordsReaders are the roles that may read the records of processing
// (GET /v1/records). steward has no DPO role: the records hold no personal
// data, and these are the roles whose duties answer for the processing
// (data stewards own the registry, legal reviewers its lawful bases,
// auditors check it, administrators configure the connectors). A DPO signs
// in as an auditor.
var RecordsReaders = []auth.Role{auth.Auditor, auth.DataSteward, auth.LegalReviewer, auth.Admin}
