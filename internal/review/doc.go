package review

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
)

// Question is one question of the review request (Mozilla's request
// form). Proposer questions are the proposer's to answer; the others
// steward answers from the registry and the deployment, and the proposer
// may add to them.
type Question struct {
	Key, Text string
	Proposer  bool
}

// Questions of the review request, in the form's order.
var Questions = []Question{
	{"questions", "What questions will you answer with this data?", true},
	{"why", "Why does the product need to answer these questions? Are there benefits for users?", true},
	{"alternatives", "What alternative methods did you consider to answer these questions? Why were they not sufficient?", true},
	{"current_instrumentation", "Can current instrumentation answer these questions?", true},
	{"measurements", "List all proposed measurements with their category and tracking ticket.", false},
	{"documentation", "Where is the public documentation of this data collection?", false},
	{"duration", "How long will this data be collected?", false},
	{"populations", "What populations will you measure (channels, countries, locales, other filters)?", true},
	{"opt_out", "If this collection is default on, what is the opt-out mechanism for users?", false},
	{"analysis", "How will you analyse this data?", true},
	{"sharing", "Where do you intend to share the results of your analysis?", true},
	{"third_party", "Is there a third-party tool or recipient for this data collection?", false},
}

// Doc is the review request document of a proposal.
type Doc struct {
	ID       int64
	Title    string
	Owner    string
	State    string
	Revision int
	Base     int64
	Links    []string
	Created  time.Time
	Override string
	// Measurements is the measurement table: one row per change.
	Measurements []Measurement
	Answers      []Answer
	Requirements []Requirement
	Notice       []string
	// Renewals are the changes that only move an expiry date (the renewal
	// request's questions apply to them).
	Renewals []string
	Matrix   []MatrixRow
}

// Measurement is one row of the measurement table.
type Measurement struct {
	What, Key, Description, Type string
	Category                     int
	CategoryName                 string
	Tickets                      string
	Details                      string
}

// Answer is one question with what is known of its answer.
type Answer struct {
	Question
	Number int
	// Known is what steward filled in from the registry and deployment.
	Known []string
	// Given is the proposer's answer ("" while unanswered).
	Given string
}

// Document builds the review request document of a view.
func (s *Service) Document(v *View) *Doc {
	p := v.Proposal
	d := &Doc{ID: p.ID, Title: p.Title, Owner: p.Owner, State: p.State, Revision: p.Revision, Base: p.BaseVersion,
		Links: p.Links, Created: p.CreatedAt, Override: p.Override, Requirements: v.Requirements, Notice: v.Notice, Matrix: v.Matrix}
	tickets := strings.Join(p.Links, ", ")
	for _, c := range v.Changes {
		m := Measurement{What: c.What, Key: c.Key(), Category: int(c.Category), CategoryName: c.Category.String(),
			Tickets: tickets, Details: strings.Join(c.Details, "; ")}
		if ds := pick(v.Proposed, v.Base, c.Dataset); ds != nil {
			m.Description = ds.Description
			if c.Field != "" {
				if f := ds.Field(c.Field); f != nil {
					m.Description, m.Type = f.Description, string(f.Type)
				}
			}
		}
		d.Measurements = append(d.Measurements, m)
		if c.What == "new dataset" {
			// A new dataset's fields are its measurements, each with its
			// category.
			if ds := v.Proposed.Dataset(c.Dataset); ds != nil {
				for _, f := range ds.Fields {
					d.Measurements = append(d.Measurements, Measurement{What: "field of the new dataset", Key: c.Dataset + "." + f.Name,
						Description: f.Description, Type: string(f.Type), Category: int(f.Category), CategoryName: f.Category.String(), Tickets: tickets})
				}
			}
		}
		if c.What == "renewal" {
			d.Renewals = append(d.Renewals, c.Key()+": "+strings.Join(c.Details, "; "))
		}
	}
	for i, q := range Questions {
		d.Answers = append(d.Answers, Answer{Question: q, Number: i + 1, Known: s.known(q.Key, v), Given: p.Answers[q.Key]})
	}
	return d
}

func pick(a, b *registry.Registry, name string) *registry.Dataset {
	if d := a.Dataset(name); d != nil {
		return d
	}
	return b.Dataset(name)
}

// known is what the registry and deployment say in answer to a question.
func (s *Service) known(key string, v *View) []string {
	var out []string
	touched := map[string]bool{}
	for _, c := range v.Changes {
		if c.Kind != "removed" {
			touched[c.Dataset] = true
		}
	}
	each := func(f func(d *registry.Dataset)) {
		for _, d := range v.Proposed.Datasets {
			if touched[d.Name] {
				f(d)
			}
		}
	}
	switch key {
	case "measurements":
		out = append(out, fmt.Sprintf("%d change(s), listed in the measurement table; the highest category is %d.", len(v.Changes), topCategory(v.Changes)))
	case "documentation":
		out = append(out, "Each field is declared with its description, category and minimisation in the registry (this proposal's file).")
		if s.Env.NoticeURL != "" {
			out = append(out, "The public privacy notice, generated from the registry in force: "+s.Env.NoticeURL)
		}
	case "duration":
		each(func(d *registry.Dataset) {
			exp := "never expires"
			if !d.Expires.IsZero() {
				exp = "collected until " + d.Expires.Format(time.DateOnly)
			}
			out = append(out, fmt.Sprintf("%s: %s; each event kept %s.", d.Name, exp, registry.FormatDuration(d.Retention)))
			for _, f := range d.Fields {
				if !f.Expires.IsZero() {
					out = append(out, fmt.Sprintf("%s.%s: collected until %s.", d.Name, f.Name, f.Expires.Format(time.DateOnly)))
				}
			}
		})
	case "opt_out":
		each(func(d *registry.Dataset) {
			if d.LawfulBasis != "" {
				out = append(out, fmt.Sprintf("%s: lawful basis %s.", d.Name, d.LawfulBasis))
			}
			if d.SampleRate < 1 {
				out = append(out, fmt.Sprintf("%s: sampled at %g.", d.Name, d.SampleRate))
			}
		})
		for _, m := range s.Env.OptOut {
			out = append(out, "steward honours "+m+" for every dataset: such events are not stored.")
		}
	case "third_party":
		if len(s.Env.Recipients) == 0 {
			out = append(out, "None configured: the data stays in steward's store.")
		}
		for _, r := range s.Env.Recipients {
			out = append(out, "Data leaves steward through "+r+".")
		}
	case "populations":
		each(func(d *registry.Dataset) {
			if d.Subject != nil {
				out = append(out, fmt.Sprintf("%s identifies people by %s (%s).", d.Name, d.Subject.Field, d.Subject.Kind))
			}
		})
	}
	for _, c := range v.Changes {
		if c.NewIdentifier && (key == "populations" || key == "measurements") {
			out = append(out, "New identifier: "+c.Key()+".")
		}
	}
	return out
}

func topCategory(cs []Change) int {
	top := 0
	for _, c := range cs {
		top = max(top, int(c.Category))
	}
	return top
}

var blankRuns = regexp.MustCompile(`\n{3,}`)

//go:embed request.md.tmpl
var requestTemplate string

var requestMD = template.Must(template.New("request.md").Funcs(template.FuncMap{
	"role": RoleTitle,
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"cell": func(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s) },
}).Parse(requestTemplate))

// Markdown renders the document.
func (d *Doc) Markdown() ([]byte, error) {
	var b bytes.Buffer
	if err := requestMD.Execute(&b, d); err != nil {
		return nil, err
	}
	// The template's optional parts leave runs of blank lines; Markdown
	// needs one.
	return blankRuns.ReplaceAll(b.Bytes(), []byte("\n\n")), nil
}
