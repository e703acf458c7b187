package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
)

// Change is one registry change of a proposal, with what the review makes
// of it.
type Change struct {
	registry.Change
	// Kind as the review names it: new dataset, new field, changed field,
	// changed dataset, renewal, removal.
	What string
	// NoticeChange says the change alters what the public notice tells
	// people, so legal/trust must sign whatever its category.
	NoticeChange bool
	// NewIdentifier says the change adds a way to tell people apart (a
	// declared subject, a uuid or hashed field).
	NewIdentifier bool
	// definition is the proposed definition (fingerprint and wording) of
	// what the change adds or changes, so the seal covers all of it, not
	// only the summary the diff prints.
	definition string
}

// Key is "dataset" or "dataset.field".
func (c Change) Key() string {
	if c.Field == "" {
		return c.Dataset
	}
	return c.Dataset + "." + c.Field
}

// Seal identifies the change exactly as a reviewer saw it: a sign-off
// covers seals, and a revision that alters a change alters its seal.
func (c Change) Seal() string {
	sum := sha256.Sum256([]byte(c.Change.String() + "\x00" + c.definition))
	return hex.EncodeToString(sum[:8])
}

// Analyse lists the changes from base to proposed with what each means
// for the review. noticeDiff, when set, says whether the public notice
// generated from each registry differs; without it, changes to what a
// notice says (purposes, categories, retention, descriptions, subjects,
// minimisation, recipients) count.
func Analyse(base, proposed *registry.Registry, noticeDiff func(a, b *registry.Registry) []string) ([]Change, []string) {
	raw := registry.Diff(base, proposed)
	out := make([]Change, 0, len(raw))
	for _, rc := range raw {
		c := Change{Change: rc, What: what(rc), definition: definition(proposed, rc)}
		c.NoticeChange = noticeDiff == nil && noticeRelevant(rc)
		c.NewIdentifier = newIdentifier(base, proposed, rc)
		out = append(out, c)
	}
	var notice []string
	if noticeDiff != nil {
		notice = noticeDiff(base, proposed)
		if len(notice) > 0 {
			// The generated notice changed as a whole; the changes that can
			// have done it are those a notice would speak of.
			for i := range out {
				out[i].NoticeChange = noticeRelevant(out[i].Change)
			}
		}
	} else {
		for _, c := range out {
			if c.NoticeChange {
				notice = append(notice, c.Change.String())
			}
		}
	}
	return out, notice
}

func definition(r *registry.Registry, c registry.Change) string {
	d := r.Dataset(c.Dataset)
	switch {
	case d == nil || c.Kind == "removed":
		return ""
	case c.Field == "" && c.Kind == "added":
		return d.Fingerprint() + d.Description
	case c.Field == "":
		// A dataset-level change's details hold every attribute before and
		// after; its fields have changes of their own.
		return ""
	}
	if f := d.Field(c.Field); f != nil {
		return f.Fingerprint() + f.Description
	}
	return ""
}

func what(c registry.Change) string {
	switch {
	case c.Kind == "added" && c.Field == "":
		return "new dataset"
	case c.Kind == "added":
		return "new field"
	case c.Kind == "removed" && c.Field == "":
		return "dataset removed"
	case c.Kind == "removed":
		return "field removed"
	case renewal(c):
		return "renewal"
	case c.Field == "":
		return "changed dataset"
	}
	return "changed field"
}

// renewal is a change of nothing but the expiry date.
func renewal(c registry.Change) bool {
	if c.Kind != "changed" || len(c.Details) == 0 {
		return false
	}
	for _, d := range c.Details {
		if !strings.HasPrefix(d, "expires:") {
			return false
		}
	}
	return true
}

// noticeAttrs are the attributes the public notice speaks of.
var noticeAttrs = []string{"description", "purpose", "lawful_basis", "retention", "subject", "category",
	"minimise", "source", "type", "access.origins", "access.server_to_server", "store", "name", "contact", "dpo"}

func noticeRelevant(c registry.Change) bool {
	if c.Kind != "changed" {
		return true
	}
	for _, d := range c.Details {
		attr, _, _ := strings.Cut(d, ":")
		if slices.Contains(noticeAttrs, attr) {
			return true
		}
	}
	return false
}

func newIdentifier(base, proposed *registry.Registry, c registry.Change) bool {
	if c.Kind == "removed" {
		return false
	}
	d := proposed.Dataset(c.Dataset)
	if d == nil {
		return false
	}
	if c.Field == "" {
		old := base.Dataset(c.Dataset)
		return d.Subject != nil && (old == nil || old.Subject == nil || *old.Subject != *d.Subject)
	}
	f := d.Field(c.Field)
	if f == nil {
		return false
	}
	isID := f.Type == registry.TypeUUID || f.Minimise.Hash || (d.Subject != nil && d.Subject.Field == f.Name)
	if c.Kind == "added" {
		return isID
	}
	if old := base.Dataset(c.Dataset); old != nil {
		if of := old.Field(c.Field); of != nil {
			wasID := of.Type == registry.TypeUUID || of.Minimise.Hash || (old.Subject != nil && old.Subject.Field == of.Name)
			return isID && !wasID
		}
	}
	return isID
}

// Requirement is one sign-off a proposal needs, and why.
type Requirement struct {
	Role   auth.Role
	Reason string
}

// Required says whose sign-offs the changes need: the highest category
// decides (1–2 a data steward; 3–4 privacy/technical, legal/trust and
// security); a change to the public notice, a new identifier or a
// recipient outside steward adds legal/trust whatever the category (the
// review form's "escalate to legal" cases).
func Required(changes []Change, notice []string, thirdParty bool) (int, []Requirement) {
	top := 0
	for _, c := range changes {
		top = max(top, int(c.Category))
	}
	var req []Requirement
	if top >= 3 {
		why := fmt.Sprintf("highest category is %d", top)
		req = append(req, Requirement{auth.PrivacyReviewer, why}, Requirement{auth.LegalReviewer, why}, Requirement{auth.SecurityReviewer, why})
		return top, req
	}
	req = append(req, Requirement{auth.DataSteward, fmt.Sprintf("highest category is %d", top)})
	var legal []string
	if len(notice) > 0 {
		legal = append(legal, "it changes the public notice")
	}
	for _, c := range changes {
		if c.NewIdentifier {
			legal = append(legal, "it adds an identifier ("+c.Key()+")")
			break
		}
	}
	if thirdParty {
		legal = append(legal, "its data goes to a recipient outside steward")
	}
	if len(legal) > 0 {
		req = append(req, Requirement{auth.LegalReviewer, strings.Join(legal, "; ")})
	}
	return top, req
}

// Seals maps each change's key to its seal: what a sign-off covers.
func Seals(changes []Change) map[string]string {
	out := make(map[string]string, len(changes))
	for _, c := range changes {
		out[c.Key()] = c.Seal()
	}
	return out
}

// sameSeals reports whether a sign-off that covered a still covers b.
func sameSeals(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// Unseen lists the keys of b that a sign-off covering a did not see as
// they are now: the parts a reviewer must look at again.
func Unseen(a, b map[string]string) []string {
	var out []string
	for k, v := range b {
		if a[k] != v {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k+" (no longer proposed)")
		}
	}
	slices.Sort(out)
	return out
}
