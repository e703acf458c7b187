package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// AuthorityReport is the notification to the supervisory authority
// (Art. 33(3)), drafted from what steward knows: the incident, its
// history, its blast radius and severity, and the registry's controller
// section. What is not known yet is listed in Unknown, so a first report
// goes out in time and a later one supplements it (Art. 33(4)): a
// supplement is the same report generated again, with a newer
// GeneratedAt and incident version.
type AuthorityReport struct {
	Incident    int64     `json:"incident"`
	Version     int64     `json:"incident_version"`
	GeneratedAt time.Time `json:"generated_at"`
	// Phase is "complete" when every element is known, else "phased".
	Phase      string           `json:"phase"`
	Controller ReportController `json:"controller"`
	Nature     ReportNature     `json:"nature"`
	// Data is the categories and approximate numbers (Art. 33(3)(a));
	// nil while no blast radius was computed.
	Data         *ReportData     `json:"data"`
	Consequences string          `json:"likely_consequences"`
	Measures     string          `json:"measures"`
	Severity     *ReportSeverity `json:"severity"`
	Timing       ReportTiming    `json:"timing"`
	// Unknown names each element not known yet, as "element: why".
	Unknown []string `json:"unknown"`
}

// ReportController is who notifies and where more can be learnt
// (Art. 33(3)(b)).
type ReportController struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
	DPO     string `json:"dpo"`
}

// ReportNature describes what happened.
type ReportNature struct {
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Source is how it was found, and Found the same in words.
	Source     string     `json:"source"`
	Found      string     `json:"found"`
	State      string     `json:"state"`
	Credential string     `json:"credential,omitempty"`
	Dataset    string     `json:"dataset,omitempty"`
	LeakAt     *time.Time `json:"leak_at"`
	AwareAt    *time.Time `json:"aware_at"`
	WindowFrom *time.Time `json:"window_from"`
	WindowTo   *time.Time `json:"window_to"`
	// Accesses counts the offending access-log entries.
	Accesses int64 `json:"offending_accesses"`
}

// ReportData is what data about whom was reached.
type ReportData struct {
	Subjects   int64            `json:"subjects"`
	Records    int64            `json:"records"`
	Categories []ReportCategory `json:"categories"`
	// SubjectCategories are the kinds of people concerned, by dataset.
	SubjectCategories []ReportSubjects `json:"subject_categories"`
	ComputedAt        time.Time        `json:"computed_at"`
	// Basis says where the numbers come from and whether they are an
	// upper bound, in words for the authority.
	Basis string `json:"basis"`
}

// ReportCategory is one category of personal data with the fields
// ("dataset.field") of it that were reached.
type ReportCategory struct {
	Category int      `json:"category"`
	Name     string   `json:"name"`
	Fields   []string `json:"fields"`
}

// ReportSubjects is one dataset's people.
type ReportSubjects struct {
	Dataset     string `json:"dataset"`
	Description string `json:"description,omitempty"`
	SubjectKind string `json:"subject_kind,omitempty"`
	Subjects    int64  `json:"subjects"`
	Records     int64  `json:"records"`
}

// ReportSeverity is the assessment and the decision.
type ReportSeverity struct {
	Level     string         `json:"level"`
	Score     float64        `json:"score"`
	Proposed  Applicability  `json:"proposed"`
	Decided   *Applicability `json:"decided"`
	DecidedBy string         `json:"decided_by,omitempty"`
	DecidedAt *time.Time     `json:"decided_at,omitempty"`
	Reasoning string         `json:"reasoning,omitempty"`
}

// ReportTiming is the Art. 33(1) clock.
type ReportTiming struct {
	AwareAt    *time.Time `json:"aware_at"`
	Due        *time.Time `json:"due"`
	NotifiedAt *time.Time `json:"notified_at"`
	Late       bool       `json:"late"`
	// DelayReasons are the newest reasons given for a late notification.
	DelayReasons string     `json:"delay_reasons,omitempty"`
	HighRiskAt   *time.Time `json:"high_risk_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

var foundBy = map[string]string{
	SourcePolicy:    "steward's access monitor found access to personal data that the policy in force did not allow",
	SourceIntegrity: "steward's access monitor found that the access log's hash chain does not hold (a loss of integrity)",
	SourceUnusual:   "steward's access monitor found a credential reading far more people's data than usual",
	SourceManual:    "reported by a person",
}

// AuthorityReport drafts the Art. 33(3) notification of incident id.
func (s *Service) AuthorityReport(ctx context.Context, id int64) (AuthorityReport, error) {
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return AuthorityReport{}, err
	}
	hist, err := s.Store.IncidentHistory(ctx, id)
	if err != nil {
		return AuthorityReport{}, err
	}
	return s.AuthorityReportOf(inc, hist), nil
}

// AuthorityReportOf drafts the Art. 33(3) notification from an incident
// and its history already read (the portal's page shows what the report
// still lacks without reading them twice).
func (s *Service) AuthorityReportOf(inc store.Incident, hist []store.IncidentEvent) AuthorityReport {
	now := s.now()
	r := AuthorityReport{Incident: inc.ID, Version: inc.Version, GeneratedAt: now, Unknown: []string{},
		Consequences: inc.Consequences, Measures: inc.Measures}
	unknown := func(f string, a ...any) { r.Unknown = append(r.Unknown, fmt.Sprintf(f, a...)) }

	var reg *registry.Registry
	if s.Registry != nil {
		reg = s.Registry.Current()
	}
	if reg != nil {
		r.Controller = ReportController{Name: reg.Controller.Name, Contact: reg.Controller.Contact, DPO: reg.Controller.DPO}
	}
	if r.Controller.Name == "" {
		unknown("controller: the registry's controller section names no controller")
	}
	switch {
	case r.Controller.DPO == "" && r.Controller.Contact == "":
		unknown("dpo: the registry's controller section names neither a DPO nor another contact point (Art. 33(3)(b))")
	case r.Controller.DPO == "":
		unknown("dpo: the registry's controller section names no DPO; the controller's contact is given as the contact point")
	}

	r.Nature = ReportNature{Title: inc.Title, Summary: inc.Summary, Source: inc.Source, Found: foundBy[inc.Source], State: inc.State,
		Credential: inc.Credential, Dataset: inc.Dataset, LeakAt: optTime(inc.LeakAt), AwareAt: optTime(inc.AwareAt),
		WindowFrom: optTime(inc.WindowFrom), WindowTo: optTime(inc.WindowTo), Accesses: inc.Accesses}
	if inc.LeakAt.IsZero() {
		unknown("leak_at: when the breach began is not known yet")
	}

	if b, ok := BlastOf(inc); ok {
		r.Data = reportData(b, reg)
		if r.Nature.WindowFrom == nil && !b.From.IsZero() {
			r.Nature.WindowFrom, r.Nature.WindowTo = optTime(b.From), optTime(b.To)
		}
		if len(r.Data.Categories) == 0 {
			unknown("data_categories: the blast radius reached no declared field")
		}
		if b.KeysTruncated {
			unknown("subjects: the count is exact, but the blast radius keeps only the first %d people's keys", len(b.SubjectKeys))
		}
	} else {
		unknown("data: the categories and approximate numbers of people and records are not known yet (no blast radius computed)")
	}
	if r.Consequences == "" {
		unknown("likely_consequences: not described yet (Art. 33(3)(c))")
	}
	if r.Measures == "" {
		unknown("measures: the measures taken or proposed are not described yet (Art. 33(3)(d))")
	}
	if sev, ok := SeverityOf(inc); ok {
		r.Severity = &ReportSeverity{Level: sev.Level, Score: sev.Score, Proposed: sev.Proposed, Decided: sev.Decided,
			DecidedBy: sev.DecidedBy, DecidedAt: optTime(sev.DecidedAt), Reasoning: sev.Reasoning}
		if sev.Decided == nil {
			unknown("decision: the severity is assessed (%s) but whether Art. 33 and 34 apply is not decided yet", sev.Level)
		}
	} else {
		unknown("severity: not assessed yet")
	}

	r.Timing = ReportTiming{AwareAt: optTime(inc.AwareAt), NotifiedAt: optTime(inc.AuthorityNotifiedAt), HighRiskAt: optTime(inc.HighRiskAt)}
	for _, c := range s.Clocks(inc, now) {
		if c.Obligation.Done != "authority_notified" || c.Start.IsZero() {
			continue
		}
		// Late also while not yet notified past the deadline: this report
		// will go out late, so it must carry the reasons.
		r.Timing.Due, r.Timing.Late = optTime(c.Due), c.Late
		break
	}
	for _, h := range slices.Backward(hist) {
		if reason, ok := strings.CutPrefix(h.Note, delayPrefix); ok {
			r.Timing.DelayReasons = reason
			break
		}
		// A note may carry several lines, the delay among them.
		if _, after, ok := strings.Cut(h.Note, "\n"+delayPrefix); ok {
			r.Timing.DelayReasons = after
			break
		}
	}
	if r.Timing.Late && r.Timing.DelayReasons == "" {
		unknown("delay_reasons: the notification is later than 72 hours after awareness, and no reasons for the delay are given (Art. 33(1))")
	}
	r.Phase = "complete"
	if len(r.Unknown) > 0 {
		r.Phase = "phased"
	}
	return r
}

func reportData(b BlastRadius, reg *registry.Registry) *ReportData {
	d := &ReportData{Subjects: b.Subjects, Records: b.Records, ComputedAt: b.ComputedAt.UTC(),
		Categories: []ReportCategory{}, SubjectCategories: []ReportSubjects{}, Basis: "counted from steward's access log"}
	switch {
	case b.Source == BlastEventStore:
		d.Basis = "counted from what steward's event store held"
	case b.UpperBound:
		d.Basis = "an upper bound: the database audit log does not say which rows were read, so everything the table held at the last read is counted"
	}
	byCat := map[int][]string{}
	for _, ds := range b.Datasets {
		rs := ReportSubjects{Dataset: ds.Name, SubjectKind: ds.SubjectKind, Subjects: ds.Subjects, Records: ds.Records}
		if reg != nil {
			if rd := reg.Dataset(ds.Name); rd != nil {
				rs.Description = rd.Description
			}
		}
		d.SubjectCategories = append(d.SubjectCategories, rs)
		for _, f := range ds.Fields {
			byCat[f.Category] = append(byCat[f.Category], ds.Name+"."+f.Name)
		}
	}
	cats := slices.Clone(b.Categories)
	for c := range byCat {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range slices.Compact(cats) {
		fs := append([]string{}, byCat[c]...)
		slices.Sort(fs)
		d.Categories = append(d.Categories, ReportCategory{Category: c, Name: registry.Category(c).String(), Fields: slices.Compact(fs)})
	}
	return d
}
