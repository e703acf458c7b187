package notice

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Formats the records export in.
const (
	FormatJSON     = "json"
	FormatCSV      = "csv"
	FormatMarkdown = "md"
)

// CSVHeader is the first row of the CSV export. Each later row is one
// activity, then one row per measure (kind "measure", the text in
// description); cells holding several items join them with "; ".
var CSVHeader = []string{"kind", "id", "name", "description", "purposes", "lawful_basis", "data_subjects",
	"personal_data", "recipients", "transfers", "erasure_time_limit", "controller", "controller_contact", "dpo"}

// Write writes the records in format (json, csv or md), in the language
// they were generated in.
func (r *Records) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatCSV:
		return r.writeCSV(w)
	case FormatMarkdown:
		return r.writeMarkdown(w, r.m)
	}
	return fmt.Errorf("unknown format %q: use json, csv or md", format)
}

func (r *Records) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	c := r.Controller
	for _, a := range r.Activities {
		_ = cw.Write([]string{a.Kind, a.ID, a.Name, a.Description, strings.Join(a.Purposes, "; "), a.LawfulBasis,
			a.DataSubjects, dataCell(a.PersonalData), recipientsCell(a.Recipients), transfersCell(a.Transfers),
			a.ErasureLimit, c.Name, c.Contact, c.DPO})
	}
	for _, ms := range r.Measures {
		_ = cw.Write([]string{"measure", ms.ID, "", ms.Description, "", "", "", "", "", "", "", c.Name, c.Contact, c.DPO})
	}
	cw.Flush()
	return cw.Error()
}

// DataCell writes personal data categories as the CSV export does:
// "technical (1): timestamp, language; interaction (2): event_stream".
func dataCell(cs []DataCategory) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		name := c.Name
		if c.Category > 0 {
			name += " (" + strconv.Itoa(c.Category) + ")"
		}
		parts[i] = name + ": " + strings.Join(c.Fields, ", ")
	}
	return strings.Join(parts, "; ")
}

func recipientsCell(rs []Recipient) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Description
	}
	return strings.Join(parts, "; ")
}

func transfersCell(ts []Transfer) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Recipient + " → " + t.Country + " (" + t.Safeguards + ")"
	}
	return strings.Join(parts, "; ")
}

func (r *Records) writeMarkdown(w io.Writer, m *Messages) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	c := r.Controller
	p("# %s\n\n", m.T("records.title"))
	p("%s\n\n", m.T("records.generated", "date", m.Date(r.GeneratedAt), "notice", strconv.Itoa(r.NoticeVersion),
		"registry", strconv.FormatInt(r.RegistryVersion, 10)))
	p("## %s\n\n", m.T("records.controller"))
	p("- %s: %s\n- %s: %s\n", m.T("records.controller.name"), c.Name, m.T("records.controller.contact"), c.Contact)
	dpo := c.DPO
	if dpo == "" {
		dpo = m.T("none")
	}
	p("- %s: %s\n\n", m.T("records.controller.dpo"), dpo)
	for _, a := range r.Activities {
		p("## %s\n\n%s\n\n", a.Name, a.Description)
		p("- **%s:** %s\n", m.T("records.purposes"), strings.Join(a.Purposes, "; "))
		p("- **%s:** %s\n", m.T("records.basis"), a.LawfulBasis)
		p("- **%s:** %s\n", m.T("records.subjects"), a.DataSubjects)
		p("- **%s:** %s\n", m.T("records.data"), dataCell(a.PersonalData))
		recipients := recipientsCell(a.Recipients)
		if recipients == "" {
			recipients = m.T("none")
		}
		p("- **%s:** %s\n", m.T("records.recipients"), recipients)
		transfers := transfersCell(a.Transfers)
		if transfers == "" {
			transfers = m.T("records.transfers.none")
		}
		p("- **%s:** %s\n", m.T("records.transfers"), transfers)
		p("- **%s:** %s\n\n", m.T("records.erasure"), a.ErasureLimit)
	}
	p("## %s\n\n", m.T("records.measures"))
	for _, ms := range r.Measures {
		p("- %s\n", ms.Description)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
