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
// template), so the stored-data table's rows are written here, each
// value escaped with html/template's own escaper.

type datasetView struct {
	Name, Description                        string
	Purpose, Basis, Retention, From, Subject string
	Sample, Expires, Where                   string
	Received, Computed, Can, Cannot          []string
	Fields                                   []fieldView
	Rows                                     template.HTML
	Readers                                  []readerView
	Choices, Context, Disclaimer             string
}

type fieldView struct {
	Name, Description, What, Stored, Category, Kept string
}

type readerView struct {
	Text, Duties string
}

// tableLabels are the stored-data table's column names.
type tableLabels struct{ Field, What, Stored, Category, Kept string }

func datasetWords(m *notice.Messages, n *notice.Notice, noticeURL string, labels tableLabels) []datasetView {
	// Many fields share a stored form, a type and a category: say each once.
	stored := map[notice.Stored]string{}
	category := map[int]string{}
	out := make([]datasetView, len(n.Datasets))
	for i, d := range n.Datasets {
		v := datasetView{Name: d.Name, Description: d.Description, Purpose: m.Purpose(d.Purpose), Basis: m.Basis(d.LawfulBasis),
			Retention: m.Duration(d.Retention.D()), From: m.From(d), Subject: m.Subject(d), Sample: m.Sample(d),
			Expires: m.Expires(d), Where: m.Where(n),
			Choices:    m.OptOutFor(n, d) + " " + m.Erasure(d),
			Context:    m.DisclaimerContext(d),
			Disclaimer: m.Disclaimer(n, d, noticeURL+"#"+d.Name)}
		kept := m.Duration(d.Retention.D())
		for _, r := range d.Received {
			v.Received = append(v.Received, m.Received(n, d, r))
		}
		v.Fields = make([]fieldView, len(d.Fields))
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
			v.Fields[j] = fv
		}
		v.Rows = rows(v.Fields, labels)
		for _, c := range d.Computed {
			v.Computed = append(v.Computed, m.Computed(d, c))
		}
		for _, r := range d.Readers {
			rv := readerView{Text: m.Reader(d, r)}
			if duties := m.Duties(r.Role); duties != "" {
				rv.Duties = m.T("reader.duties", "duties", duties)
			}
			v.Readers = append(v.Readers, rv)
		}
		for _, q := range d.Can {
			v.Can = append(v.Can, m.Question(q))
		}
		for _, q := range d.Cannot {
			v.Cannot = append(v.Cannot, m.Question(q))
		}
		out[i] = v
	}
	return out
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
