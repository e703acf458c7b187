package incident

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// The register (Art. 33(5)) documents every breach, notified or not: the
// facts, its effects, the remedial action, and each decision with its
// reasoning, so the authority can verify compliance. It is built from
// the incidents and their history, never typed in twice.

// Formats of the register's export.
const (
	RegisterJSON = "json"
	RegisterCSV  = "csv"
)

// RegisterEntry is one incident in the register.
type RegisterEntry struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	Source     string `json:"source"`
	State      string `json:"state"`
	Credential string `json:"credential,omitempty"`
	Dataset    string `json:"dataset,omitempty"`
	Summary    string `json:"summary"`
	// Facts: when it began, when steward or a person became aware, the
	// window the blast radius covers.
	LeakAt     time.Time `json:"leak_at,omitzero"`
	AwareAt    time.Time `json:"aware_at,omitzero"`
	WindowFrom time.Time `json:"window_from,omitzero"`
	WindowTo   time.Time `json:"window_to,omitzero"`
	Accesses   int64     `json:"offending_accesses"`
	// Effects, from the blast radius when one was computed.
	People     *int64   `json:"people_affected"`
	Records    *int64   `json:"records_affected"`
	Datasets   []string `json:"datasets_affected"`
	Categories []int    `json:"categories_affected"`
	// Severity and the decisions on Art. 33 and 34.
	SeverityLevel string         `json:"severity_level,omitempty"`
	SeverityScore *float64       `json:"severity_score"`
	Decided       *Applicability `json:"decided"`
	HighRiskAt    time.Time      `json:"high_risk_at,omitzero"`
	Consequences  string         `json:"consequences"`
	// Measures are the remedial action taken or proposed.
	Measures            string    `json:"measures"`
	OwnerNotifiedAt     time.Time `json:"owner_notified_at,omitzero"`
	AuthorityNotifiedAt time.Time `json:"authority_notified_at,omitzero"`
	SubjectsNotifiedAt  time.Time `json:"subjects_notified_at,omitzero"`
	Reasoning           string    `json:"reasoning"`
	OpenedBy            string    `json:"opened_by"`
	OpenedAt            time.Time `json:"opened_at"`
	// ClosedAt is when it reached closed or not_a_breach.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Timeline is every line of the incident's history: the decisions
	// and who took them.
	Timeline []RegisterEvent `json:"timeline"`
}

// RegisterEvent is one line of an incident's history in the register.
type RegisterEvent struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	Note   string    `json:"note,omitempty"`
}

// Register is the whole register, oldest incident first (the order an
// authority reads it in).
type Register struct {
	GeneratedAt time.Time       `json:"generated_at"`
	Controller  string          `json:"controller,omitempty"`
	Incidents   []RegisterEntry `json:"incidents"`
}

// RegisterQuery narrows the register; zero values take every incident.
type RegisterQuery struct {
	States []string
	Source string
}

// Register reads every matching incident with its history.
func (s *Service) Register(ctx context.Context, q RegisterQuery) (Register, error) {
	reg := Register{GeneratedAt: s.now(), Incidents: []RegisterEntry{}}
	if r := s.Registry.Current(); r != nil {
		reg.Controller = r.Controller.Name
	}
	var all []store.Incident
	before := int64(0)
	for {
		page, err := s.Store.ListIncidents(ctx, store.IncidentQuery{States: q.States, Source: q.Source, Limit: 500, Before: before})
		if err != nil {
			return reg, err
		}
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	for k := len(all) - 1; k >= 0; k-- {
		i := all[k]
		hist, err := s.Store.IncidentHistory(ctx, i.ID)
		if err != nil {
			return reg, err
		}
		reg.Incidents = append(reg.Incidents, registerEntry(i, hist))
	}
	return reg, nil
}

func registerEntry(i store.Incident, hist []store.IncidentEvent) RegisterEntry {
	e := RegisterEntry{ID: i.ID, Title: i.Title, Source: i.Source, State: i.State, Credential: i.Credential, Dataset: i.Dataset,
		Summary: i.Summary, LeakAt: i.LeakAt, AwareAt: i.AwareAt, WindowFrom: i.WindowFrom, WindowTo: i.WindowTo, Accesses: i.Accesses,
		Datasets: []string{}, Categories: []int{}, HighRiskAt: i.HighRiskAt, Consequences: i.Consequences, Measures: i.Measures,
		OwnerNotifiedAt: i.OwnerNotifiedAt, AuthorityNotifiedAt: i.AuthorityNotifiedAt, SubjectsNotifiedAt: i.SubjectsNotifiedAt,
		Reasoning: i.Reasoning, OpenedBy: i.OpenedBy, OpenedAt: i.CreatedAt, Timeline: []RegisterEvent{}}
	if Lifecycle.Final(workflow.State(i.State)) {
		e.ClosedAt = i.StateAt
	}
	if b, ok := BlastOf(i); ok {
		e.People, e.Records = &b.Subjects, &b.Records
		for _, d := range b.Datasets {
			e.Datasets = append(e.Datasets, d.Name)
		}
		if b.Categories != nil {
			e.Categories = b.Categories
		}
	}
	if sev, ok := SeverityOf(i); ok {
		e.SeverityLevel, e.SeverityScore, e.Decided = sev.Level, &sev.Score, sev.Decided
	}
	for _, h := range hist {
		e.Timeline = append(e.Timeline, RegisterEvent{At: h.At, Actor: h.Actor, Action: h.Action, From: h.From, To: h.To, Note: h.Note})
	}
	return e
}

// RegisterCSVHeader names the CSV export's columns, one row per incident.
var RegisterCSVHeader = []string{"id", "title", "source", "state", "credential", "dataset", "summary",
	"leak_at", "aware_at", "window_from", "window_to", "offending_accesses",
	"people_affected", "records_affected", "datasets_affected", "categories_affected",
	"severity_level", "severity_score", "art33_decided", "art34_decided", "high_risk_at",
	"consequences", "measures", "owner_notified_at", "authority_notified_at", "subjects_notified_at",
	"reasoning", "opened_by", "opened_at", "closed_at", "timeline"}

// Write writes the register as JSON or CSV.
func (r Register) Write(w io.Writer, format string) error {
	switch format {
	case RegisterJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case RegisterCSV:
		return r.writeCSV(w)
	}
	return fmt.Errorf("unknown format %q: use json or csv", format)
}

func (r Register) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(RegisterCSVHeader)
	for _, e := range r.Incidents {
		var cats []string
		for _, c := range e.Categories {
			cats = append(cats, strconv.Itoa(c))
		}
		var decisions []string
		for _, h := range e.Timeline {
			line := stamp(h.At) + " " + h.Actor
			if h.Action != "" {
				line += " " + h.Action
			}
			if h.Note != "" {
				line += ": " + h.Note
			}
			decisions = append(decisions, line)
		}
		row := []string{strconv.FormatInt(e.ID, 10), e.Title, e.Source, e.State, e.Credential, e.Dataset, e.Summary,
			csvTime(e.LeakAt), csvTime(e.AwareAt), csvTime(e.WindowFrom), csvTime(e.WindowTo), strconv.FormatInt(e.Accesses, 10),
			csvCount(e.People), csvCount(e.Records), strings.Join(e.Datasets, "; "), strings.Join(cats, "; "),
			e.SeverityLevel, csvScore(e.SeverityScore), csvDecided(e.Decided, true), csvDecided(e.Decided, false), csvTime(e.HighRiskAt),
			e.Consequences, e.Measures, csvTime(e.OwnerNotifiedAt), csvTime(e.AuthorityNotifiedAt), csvTime(e.SubjectsNotifiedAt),
			e.Reasoning, e.OpenedBy, csvTime(e.OpenedAt), csvTime(e.ClosedAt), strings.Join(decisions, "\n")}
		for k := range row {
			row[k] = defuse(row[k])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a spreadsheet from running a cell as a formula: titles,
// notes and credentials come from people and other systems, and a
// register is opened in spreadsheets (OWASP CSV injection).
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func csvCount(n *int64) string {
	if n == nil {
		return "" // not computed: unknown, not zero
	}
	return strconv.FormatInt(*n, 10)
}

func csvScore(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', 2, 64)
}

func csvDecided(a *Applicability, art33 bool) string {
	switch {
	case a == nil:
		return ""
	case art33 && a.Art33, !art33 && a.Art34:
		return "yes"
	}
	return "no"
}
