package ui

import (
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/review"
)

// Entry is one item of the navigation and the roles that see it. The roles
// must match the roles of the page's route (the server's tests check
// that), so nobody is shown a link that answers 403.
type Entry struct {
	Label, Path string
	// Roles see the entry; nil means everyone signed in.
	Roles []auth.Role
}

// entries is the navigation in the order shown. A new screen (reviews,
// incidents, notices) adds one line here.
var entries = []Entry{
	{Label: "Requests", Path: "/admin/requests", Roles: []auth.Role{auth.Support, auth.Admin}},
	{Label: "Reviews", Path: "/admin/reviews", Roles: review.ReaderRoles},
	{Label: "Incidents", Path: "/admin/incidents", Roles: incident.Readers},
	{Label: "Records", Path: "/admin/records", Roles: []auth.Role{auth.Auditor, auth.DataSteward, auth.LegalReviewer, auth.Admin}},
	{Label: "Mailbox", Path: "/admin/mail", Roles: []auth.Role{auth.Support, auth.Admin}},
	{Label: "Collection", Path: "/admin/collection", Roles: []auth.Role{auth.Admin, auth.DataSteward}},
	{Label: "Account", Path: "/account"},
}

// Entries returns the navigation's entries.
func Entries() []Entry { return slices.Clone(entries) }

// Navigation is what role sees, with the entry of the current path marked.
func Navigation(role auth.Role, current string) []Link {
	var out []Link
	for _, e := range entries {
		if e.Roles != nil && !slices.Contains(e.Roles, role) {
			continue
		}
		out = append(out, Link{Label: e.Label, Path: e.Path,
			Current: current == e.Path || strings.HasPrefix(current, e.Path+"/")})
	}
	return out
}
