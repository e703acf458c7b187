package incident

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// categoryWords say a registry category in words for people.
var categoryWords = map[int]string{
	1: "technical data (about devices and software)",
	2: "interaction data (how the product was used)",
	3: "web activity data (sites and pages visited)",
	4: "highly sensitive data",
}

func categoryText(c ReportCategory) string {
	if w, ok := categoryWords[c.Category]; ok {
		return w
	}
	return fmt.Sprintf("category %d (%s)", c.Category, c.Name)
}

func when(t *time.Time) string {
	if t == nil {
		return "not known yet"
	}
	return stamp(*t)
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "_Not known yet; to be supplemented (Art. 33(4))._"
	}
	return s
}

// mdEscape keeps text people wrote from being read as Markdown markup
// that changes the report's structure (a heading, a list, a link, raw
// HTML). Underscores inside words (dataset names) are not emphasis in
// CommonMark and stay as they are, so names read as in the registry.
func mdEscape(s string) string {
	s = mdInline.Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " ")
		if t != "" && strings.ContainsRune("#-+=|", rune(t[0])) {
			lines[i] = l[:len(l)-len(t)] + `\` + t
		}
	}
	return strings.Join(lines, "\n")
}

var mdInline = strings.NewReplacer(`\`, `\\`, "<", "&lt;", ">", "&gt;", "`", "\\`", "*", `\*`, "[", `\[`, "]", `\]`)

func decision(a *Applicability) string {
	if a == nil {
		return "not decided yet"
	}
	return fmt.Sprintf("Art. 33 %s, Art. 34 %s", appliesWord(a.Art33), appliesWord(a.Art34))
}

func appliesWord(b bool) string {
	if b {
		return "applies"
	}
	return "does not apply"
}

// ReportCSP is the printable report's content policy, wherever it is
// served: a document of its own, nothing to load, nothing to run, not
// framed.
const ReportCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

// Markdown renders the report; the same report renders the same text.
func (r AuthorityReport) Markdown() string {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	p("# Notification of a personal data breach (GDPR Art. 33)\n\n")
	p("Incident %d, version %d, generated %s. ", r.Incident, r.Version, stamp(r.GeneratedAt))
	if r.Phase == "phased" {
		p("**Phased notification (Art. 33(4)):** the elements listed under *Not known yet* will be supplemented.\n\n")
	} else {
		p("Every element of Art. 33(3) is given.\n\n")
	}

	p("## Controller and contact point (Art. 33(3)(b))\n\n")
	p("- Controller: %s\n", orUnknown(mdEscape(r.Controller.Name)))
	p("- Contact: %s\n", orUnknown(mdEscape(r.Controller.Contact)))
	p("- Data protection officer: %s\n\n", orUnknown(mdEscape(r.Controller.DPO)))

	p("## Nature of the breach (Art. 33(3)(a))\n\n")
	p("**%s**\n\n", mdEscape(r.Nature.Title))
	if r.Nature.Summary != "" {
		p("%s\n\n", mdEscape(r.Nature.Summary))
	}
	p("- How it was found: %s\n", orUnknown(r.Nature.Found))
	if r.Nature.Credential != "" {
		p("- Credential: %s\n", mdEscape(r.Nature.Credential))
	}
	if r.Nature.Dataset != "" {
		p("- Dataset: %s\n", mdEscape(r.Nature.Dataset))
	}
	p("- Breach began (t_l): %s\n", when(r.Nature.LeakAt))
	p("- Controller became aware: %s\n", when(r.Nature.AwareAt))
	if r.Nature.WindowFrom != nil {
		p("- Period examined: %s to %s\n", when(r.Nature.WindowFrom), when(r.Nature.WindowTo))
	}
	if r.Nature.Accesses > 0 {
		p("- Offending accesses recorded: %d\n", r.Nature.Accesses)
	}
	p("\n")

	p("### People and records concerned\n\n")
	if r.Data == nil {
		p("%s\n\n", orUnknown(""))
	} else {
		p("- Approximate number of people: %d\n", r.Data.Subjects)
		p("- Approximate number of records: %d\n", r.Data.Records)
		p("- Basis: %s, at %s\n\n", r.Data.Basis, stamp(r.Data.ComputedAt))
		p("Categories of data subjects:\n\n")
		for _, s := range r.Data.SubjectCategories {
			p("- %s", mdEscape(s.Dataset))
			if s.Description != "" {
				p(" (%s)", mdEscape(s.Description))
			}
			if s.SubjectKind != "" {
				p(", identified %s", kindWords(s.SubjectKind))
			}
			p(": %d people, %d records\n", s.Subjects, s.Records)
		}
		p("\nCategories of personal data:\n\n")
		for _, c := range r.Data.Categories {
			p("- %s: %s\n", categoryText(c), mdEscape(strings.Join(c.Fields, ", ")))
		}
		p("\n")
	}

	p("## Likely consequences (Art. 33(3)(c))\n\n%s\n\n", orUnknown(mdEscape(r.Consequences)))
	p("## Measures taken or proposed (Art. 33(3)(d))\n\n%s\n\n", orUnknown(mdEscape(r.Measures)))

	p("## Severity\n\n")
	if r.Severity == nil {
		p("%s\n\n", orUnknown(""))
	} else {
		p("- Level (ENISA): %s (score %.2f)\n", r.Severity.Level, r.Severity.Score)
		p("- Proposed: %s\n", decision(&r.Severity.Proposed))
		p("- Decided: %s", decision(r.Severity.Decided))
		if r.Severity.DecidedBy != "" {
			p(" (by %s, %s)", mdEscape(r.Severity.DecidedBy), when(r.Severity.DecidedAt))
		}
		p("\n")
		if r.Severity.Reasoning != "" {
			p("- Reasoning: %s\n", mdEscape(r.Severity.Reasoning))
		}
		p("\n")
	}

	p("## Timing (Art. 33(1))\n\n")
	p("- Aware: %s\n", when(r.Timing.AwareAt))
	p("- Due (72 hours after awareness): %s\n", when(r.Timing.Due))
	if r.Timing.NotifiedAt != nil {
		p("- Authority notified: %s\n", when(r.Timing.NotifiedAt))
	}
	if r.Timing.HighRiskAt != nil {
		p("- High risk to people decided (Art. 34): %s\n", when(r.Timing.HighRiskAt))
	}
	if r.Timing.Late {
		p("- **Late:** reasons for the delay: %s\n", orUnknown(mdEscape(r.Timing.DelayReasons)))
	}
	p("\n")

	if len(r.Unknown) > 0 {
		p("## Not known yet\n\n")
		for _, u := range r.Unknown {
			p("- %s\n", mdEscape(u))
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func kindWords(kind string) string {
	switch kind {
	case "pseudonymous":
		return "by a pseudonymous identifier"
	case "direct":
		return "directly (account or e-mail address)"
	}
	return "by " + kind
}

//go:embed report.html.tmpl
var reportHTML string

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": when, "category": categoryText, "decision": decision, "kind": kindWords,
	"join":   strings.Join,
	"ptr":    func(t time.Time) *time.Time { return &t },
	"ptrApp": func(a Applicability) *Applicability { return &a },
}).Parse(reportHTML))

// HTML renders the report as a printable page: one self-contained
// document, no script, with print styles.
func (r AuthorityReport) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := reportPage.Execute(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
