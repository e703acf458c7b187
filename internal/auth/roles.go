// Package auth says who is calling and in which role: API bearer tokens
// (only their hashes are stored) and, later, user sessions.
package auth

import "slices"

// Role names a set of duties; docs/roles.md describes each.
type Role string

// Roles.
const (
	Admin            Role = "admin"
	DataSteward      Role = "data_steward"
	PrivacyReviewer  Role = "privacy_reviewer"
	LegalReviewer    Role = "legal_reviewer"
	SecurityReviewer Role = "security_reviewer"
	ProductOwner     Role = "product_owner"
	Support          Role = "support"
	Analyst          Role = "analyst"
	IncidentManager  Role = "incident_manager"
	Auditor          Role = "auditor"
	// App is a machine credential of the product's own backend: it may
	// submit data subject requests for its signed-in users, nothing else.
	App Role = "app"
	// System is a machine credential of another system that reports the
	// accesses to personal data it made (POST /v1/access-log/external),
	// so the breach monitor checks them too. It reads nothing.
	System Role = "system"
)

// Roles lists every role.
var Roles = []Role{Admin, DataSteward, PrivacyReviewer, LegalReviewer, SecurityReviewer,
	ProductOwner, Support, Analyst, IncidentManager, Auditor, App, System}

// ValidRole reports whether s names a role.
func ValidRole(s string) bool { return slices.Contains(Roles, Role(s)) }

// PersonRoles lists the roles a person can hold: every role but app and
// system, which are machines'.
func PersonRoles() []Role {
	return slices.DeleteFunc(slices.Clone(Roles), func(r Role) bool { return r == App || r == System })
}
