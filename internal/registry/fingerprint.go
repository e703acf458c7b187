package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Fingerprint identifies a field's definition without its description: a
// review signs off a fingerprint, so changing anything but the wording
// needs review again.
func (f *Field) Fingerprint() string {
	var b strings.Builder
	f.canonical(&b)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func (f *Field) canonical(b *strings.Builder) {
	num := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	m := f.Minimise
	fmt.Fprintf(b, "field{%q %s cat=%d req=%t src=%s len=%d min=%s max=%s values=%q items=%d keys=%d min{%s %d %d %t %t %t}",
		f.Name, f.Type, f.Category, f.Required, f.Source, f.MaxLength, num(f.Min), num(f.Max), f.Values,
		f.MaxItems, f.MaxKeys, m.Round, m.TruncateV4, m.TruncateV6, m.Coarse, m.Hash, m.Drop)
	if !f.Expires.IsZero() {
		// Only when declared, so fields without one keep their reviewed
		// fingerprints; a renewal is a new definition to sign off.
		b.WriteString(" expires=" + f.Expires.Format("2006-01-02"))
	}
	if f.Unclassified {
		b.WriteString(" unclassified")
	}
	if f.Glean != nil {
		b.WriteString(f.Glean.canonical())
	}
	if f.Items != nil {
		b.WriteString(" items=")
		f.Items.canonical(b)
	}
	for _, c := range f.Fields {
		b.WriteString(" member=")
		c.canonical(b)
	}
	b.WriteString("}")
}

// Fingerprint identifies a dataset's reviewed definition: its purpose,
// legal basis, retention, subject, access, suppress_erased when declared,
// and every field's fingerprint.
func (d *Dataset) Fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset{%q %q %q %s %s %+v}", d.Name, d.Purpose, d.LawfulBasis, d.Retention, d.Subject.canonical(), d.Access)
	if d.SuppressErased > 0 {
		// Only when declared, so datasets without it keep their reviewed
		// fingerprints.
		fmt.Fprintf(&b, "suppress_erased=%s", d.SuppressErased)
	}
	if d.Glean != nil {
		b.WriteString(d.Glean.canonical())
	}
	for _, f := range d.Fields {
		b.WriteString(f.Fingerprint())
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// canonical writes the subject as fmt's %v did before Identifier existed,
// so datasets that do not declare one keep their reviewed fingerprints.
func (s *Subject) canonical() string {
	switch {
	case s == nil:
		return "<nil>"
	case s.Identifier == "":
		return "&{" + s.Field + " " + s.Kind + "}"
	}
	return "&{" + s.Field + " " + s.Kind + " " + s.Identifier + "}"
}
