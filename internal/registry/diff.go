package registry

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change is one field-level difference between two registry versions.
type Change struct {
	// Kind is "added", "removed" or "changed".
	Kind    string
	Dataset string
	// Field is "" for a change to the dataset itself.
	Field string
	// Details say what changed ("retention: 120d → 90d"), one per attribute.
	Details []string
	// Category is the highest category the change touches: the field's, or
	// the dataset's highest field for a dataset-level change. A review
	// decides its sign-offs from it.
	Category Category
}

func (c Change) String() string {
	mark := map[string]string{"added": "+", "removed": "-", "changed": "~"}[c.Kind]
	what := c.Dataset
	if c.Field != "" {
		what += "." + c.Field
	}
	s := fmt.Sprintf("%s %s (category %d)", mark, what, c.Category)
	if len(c.Details) > 0 {
		s += ": " + strings.Join(c.Details, "; ")
	}
	return s
}

// Diff lists what changed from a to b: datasets and fields added, removed
// or redefined, in b's declaration order (removals after). Descriptions
// count as changes too: they are what the public notice says.
func Diff(a, b *Registry) []Change {
	var out []Change
	for _, db := range b.Datasets {
		da := a.Dataset(db.Name)
		if da == nil {
			out = append(out, Change{Kind: "added", Dataset: db.Name, Category: db.MaxCategory(), Details: datasetSummary(db)})
			continue
		}
		if d := diffAttrs(datasetAttrs(da), datasetAttrs(db)); len(d) > 0 {
			out = append(out, Change{Kind: "changed", Dataset: db.Name, Category: max(da.MaxCategory(), db.MaxCategory()), Details: d})
		}
		for _, fb := range db.Fields {
			fa := da.Field(fb.Name)
			if fa == nil {
				out = append(out, Change{Kind: "added", Dataset: db.Name, Field: fb.Name, Category: fb.Category, Details: fieldSummary(fb)})
				continue
			}
			if d := diffAttrs(fieldAttrs(fa), fieldAttrs(fb)); len(d) > 0 {
				out = append(out, Change{Kind: "changed", Dataset: db.Name, Field: fb.Name, Category: max(fa.Category, fb.Category), Details: d})
			}
		}
		for _, fa := range da.Fields {
			if db.Field(fa.Name) == nil {
				out = append(out, Change{Kind: "removed", Dataset: db.Name, Field: fa.Name, Category: fa.Category})
			}
		}
	}
	for _, da := range a.Datasets {
		if b.Dataset(da.Name) == nil {
			out = append(out, Change{Kind: "removed", Dataset: da.Name, Category: da.MaxCategory()})
		}
	}
	if a.Controller != b.Controller {
		out = append(out, Change{Kind: "changed", Dataset: "controller", Details: diffAttrs(
			[][2]string{{"name", a.Controller.Name}, {"contact", a.Controller.Contact}, {"dpo", a.Controller.DPO}},
			[][2]string{{"name", b.Controller.Name}, {"contact", b.Controller.Contact}, {"dpo", b.Controller.DPO}})})
	}
	return out
}

func datasetSummary(d *Dataset) []string {
	return []string{fmt.Sprintf("%d field(s), purpose %s, retention %s", len(d.Fields), d.Purpose, FormatDuration(d.Retention))}
}

func fieldSummary(f *Field) []string {
	return []string{fmt.Sprintf("%s, category %d", f.Type, f.Category)}
}

// diffAttrs compares two ordered attribute lists with the same keys.
func diffAttrs(a, b [][2]string) []string {
	var out []string
	for i := range b {
		if i < len(a) && a[i] != b[i] {
			out = append(out, fmt.Sprintf("%s: %s → %s", b[i][0], orNone(a[i][1]), orNone(b[i][1])))
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func datasetAttrs(d *Dataset) [][2]string {
	subject := ""
	if d.Subject != nil {
		subject = d.Subject.Field + " (" + d.Subject.Kind + ")"
	}
	suppress := ""
	if d.SuppressErased > 0 {
		suppress = FormatDuration(d.SuppressErased)
	}
	expires := "never"
	if !d.Expires.IsZero() {
		expires = d.Expires.Format(time.DateOnly)
	}
	return [][2]string{
		{"description", d.Description}, {"purpose", d.Purpose}, {"lawful_basis", d.LawfulBasis},
		{"retention", FormatDuration(d.Retention)}, {"owner", d.Owner}, {"expires", expires},
		{"path_alias", d.PathAlias}, {"sample_rate", fmt.Sprint(d.SampleRate)}, {"store", d.Store},
		{"subject", subject}, {"access.origins", strings.Join(d.Access.Origins, ", ")},
		{"access.server_to_server", fmt.Sprint(d.Access.ServerToServer)}, {"access.write_key_sha256", d.Access.WriteKeySHA256},
		{"suppress_erased", suppress},
	}
}

func fieldAttrs(f *Field) [][2]string {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	}
	nonzero := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprint(n)
	}
	var m []string
	if f.Minimise.Round > 0 {
		m = append(m, "round "+FormatDuration(f.Minimise.Round))
	}
	if f.Minimise.TruncateV4 > 0 || f.Minimise.TruncateV6 > 0 {
		m = append(m, fmt.Sprintf("truncate /%d /%d", f.Minimise.TruncateV4, f.Minimise.TruncateV6))
	}
	for _, b := range []struct {
		on   bool
		name string
	}{{f.Minimise.Coarse, "coarse"}, {f.Minimise.Hash, "hash"}, {f.Minimise.Drop, "drop"}} {
		if b.on {
			m = append(m, b.name)
		}
	}
	items := ""
	if f.Items != nil {
		items = f.Items.Fingerprint()[:12]
	}
	members := make([]string, len(f.Fields))
	for i, c := range f.Fields {
		members[i] = c.Name + "@" + c.Fingerprint()[:12]
	}
	slices.Sort(members)
	expires := ""
	if !f.Expires.IsZero() {
		expires = f.Expires.Format(time.DateOnly)
	}
	return [][2]string{
		{"expires", expires},
		{"type", string(f.Type)}, {"category", fmt.Sprint(int(f.Category))}, {"description", f.Description},
		{"required", fmt.Sprint(f.Required)}, {"source", string(f.Source)}, {"max_length", nonzero(f.MaxLength)},
		{"min", num(f.Min)}, {"max", num(f.Max)}, {"values", strings.Join(f.Values, ", ")},
		{"max_items", nonzero(f.MaxItems)}, {"items", items}, {"fields", strings.Join(members, ", ")},
		{"max_keys", nonzero(f.MaxKeys)}, {"minimise", strings.Join(m, ", ")},
	}
}

// FormatDuration writes a duration the way the registry does (120d, 10m),
// not as Go does (2880h0m0s).
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
