package notice

import (
	"html/template"
	"strings"

	"github.com/steward-privacy/steward/internal/notice"
)

// The page's sentences are made here, once per rendering, and the
// templates only print them: a template calling the Messages' methods
// goes through reflection for every call, and so does html/template's
// escaper for every value it prints. For 2 000 fields that was most of
// the page's cost (BenchmarkNoticeRender: 105 ms with the table in the
// template, 26–50 ms with the facts and lists still there), so the
// stored-data rows, the facts and the lists are written here, each value
// escaped with html/template's own escaper.

type datasetView struct {
	Name, Description string
	// Facts is the dataset's <dl>; Received, Computed, Readers, Can and
	// Cannot are the <li> items of its lists.
	Facts                                    template.HTML
	Received, Computed, Readers, Can, Cannot template.HTML
	HasReaders                               bool
	Rows                                     template.HTML
	Choices, Context, Disclaimer             string
}

type fieldView struct {
	Name, Description, What, Stored, Category, Kept string
}

// tableLabels are the stored-data table's column names.
type tableLabels struct{ Field, What, Stored, Category, Kept string }

// sectionLabels are the fixed words of every dataset's section.
type sectionLabels struct {
	Purpose, Basis, Retention, From, Subject, Sample, Expires, Where string
}

func datasetWords(m *notice.Messages, n *notice.Notice, noticeURL string, labels tableLabels) []datasetView {
	// Many fields share a stored form, a type and a category: say each once.
	stored := map[notice.Stored]string{}
	category := map[int]string{}
	sl := sectionLabels{Purpose: m.T("ds.purpose"), Basis: m.T("ds.basis"), Retention: m.T("ds.retention"), From: m.T("ds.from"),
		Subject: m.T("ds.subject"), Sample: m.T("ds.sample"), Expires: m.T("ds.expires"), Where: m.T("ds.where")}
	where := m.Where(n)
	out := make([]datasetView, len(n.Datasets))
	for i, d := range n.Datasets {
		kept := m.Duration(d.Retention.D())
		v := datasetView{Name: d.Name, Description: d.Description,
			Facts: facts([][2]string{{sl.Purpose, m.Purpose(d.Purpose)}, {sl.Basis, m.Basis(d.LawfulBasis)}, {sl.Retention, kept},
				{sl.From, m.From(d)}, {sl.Subject, m.Subject(d)}, {sl.Sample, m.Sample(d)}, {sl.Expires, m.Expires(d)}, {sl.Where, where}}),
			HasReaders: len(d.Readers) > 0,
			Choices:    m.OptOutFor(n, d) + " " + m.Erasure(d),
			Context:    m.DisclaimerContext(d),
			Disclaimer: m.Disclaimer(n, d, noticeURL+"#"+d.Name)}
		var received, computed, readers, can, cannot []string
		for _, r := range d.Received {
			received = append(received, m.Received(n, d, r))
		}
		fields := make([]fieldView, len(d.Fields))
		for j, f := range d.Fields {
			s, ok := stored[f.Stored]
			if !ok {
				s = m.StoredAs(f.Stored)
				stored[f.Stored] = s
			}
			c, ok := category[f.Category]
			if !ok {
				c = m.Category(f.Category)
				category[f.Category] = c
			}
			what := m.Type(f)
			if src := m.Source(d, f); src != "" {
				what += ", " + src
			}
			fv := fieldView{Name: f.Name, Description: f.Description, What: what, Stored: s, Category: c, Kept: kept}
			if f.Stored.Form == notice.NotStored {
				fv.Kept = m.Kept(f)
			}
			fields[j] = fv
		}
		v.Rows = rows(fields, labels)
		for _, c := range d.Computed {
			computed = append(computed, m.Computed(d, c))
		}
		for _, r := range d.Readers {
			text := template.HTMLEscapeString(m.Reader(d, r))
			if duties := m.Duties(r.Role); duties != "" {
				text += ` <span class="muted">` + template.HTMLEscapeString(m.T("reader.duties", "duties", duties)) + `</span>`
			}
			readers = append(readers, text)
		}
		for _, q := range d.Can {
			can = append(can, m.Question(q))
		}
		for _, q := range d.Cannot {
			cannot = append(cannot, m.Question(q))
		}
		v.Received, v.Computed, v.Can, v.Cannot = items(received), items(computed), items(can), items(cannot)
		v.Readers = template.HTML("<li>" + strings.Join(readers, "</li>\n<li>") + "</li>") // each part escaped above
		out[i] = v
	}
	return out
}

// facts writes a dataset's <dl>, leaving out terms without a value.
func facts(terms [][2]string) template.HTML {
	var b strings.Builder
	b.WriteString(`<dl class="facts">`)
	for _, t := range terms {
		if t[1] == "" {
			continue
		}
		b.WriteString("\n<dt>")
		b.WriteString(template.HTMLEscapeString(t[0]))
		b.WriteString("</dt><dd>")
		b.WriteString(template.HTMLEscapeString(t[1]))
		b.WriteString("</dd>")
	}
	b.WriteString("\n</dl>")
	return template.HTML(b.String()) // every term escaped
}

// items writes the <li> elements of a list of sentences.
func items(ss []string) template.HTML {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("<li>")
		b.WriteString(template.HTMLEscapeString(s))
		b.WriteString("</li>")
	}
	return template.HTML(b.String()) // every item escaped
}

// rows writes the stored-data table's rows: what the template wrote
// before, with the same escaping.
func rows(fields []fieldView, l tableLabels) template.HTML {
	esc := template.HTMLEscapeString
	field, what, stored, category, kept := esc(l.Field), esc(l.What), esc(l.Stored), esc(l.Category), esc(l.Kept)
	var b strings.Builder
	b.Grow(len(fields) * 640)
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	for _, f := range fields {
		name := esc(f.Name)
		w(`<tr data-field="`, name, `"><td data-label="`, field, `"><code>`, name, `</code></td><td data-label="`, what, `">`)
		if f.Description != "" {
			w(esc(f.Description), " ")
		}
		w(`<span class="muted">`, esc(f.What), `</span></td><td data-label="`, stored, `" class="stored">`, esc(f.Stored),
			`</td><td data-label="`, category, `">`, esc(f.Category), `</td><td data-label="`, kept, `" class="kept">`, esc(f.Kept), "</td></tr>\n")
	}
	// Every value above went through HTMLEscapeString.
	return template.HTML(b.String())
}

// tableHead is the stored-data table's <thead>.
func tableHead(l tableLabels) template.HTML {
	var b strings.Builder
	b.WriteString("<thead><tr>")
	for _, c := range []string{l.Field, l.What, l.Stored, l.Category, l.Kept} {
		b.WriteString(`<th scope="col">` + template.HTMLEscapeString(c) + "</th>")
	}
	b.WriteString("</tr></thead>")
	return template.HTML(b.String()) // every label escaped
}
