package ldaptest

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-privacy/steward/internal/auth"
)

// The fixture directory.
const (
	BaseDN          = "dc=example,dc=org"
	PeopleDN        = "ou=people," + BaseDN
	GroupsDN        = "ou=groups," + BaseDN
	AdminDN         = "cn=admin," + BaseDN // slapd's rootdn
	AdminPassword   = "admin-Secret-1"
	ServiceDN       = "cn=steward,ou=services," + BaseDN // read-only service account
	ServicePassword = "service-Secret-2"
)

// User is a person in the fixture directory.
type User struct {
	Login    string // uid
	Password string
	Email    string
	Name     string      // cn
	Groups   []string    // CNs of the groups the user is a member of
	Roles    []auth.Role // what Config's GroupRoles make of Groups, in auth.Roles order
}

// DN is the user's entry.
func (u User) DN() string { return "uid=" + goldap.EscapeDN(u.Login) + "," + PeopleDN }

// Users are the fixture's people. frank's uid contains a comma, so a
// correctly escaped DN is needed to sign him in.
var Users = []User{
	{Login: "alice", Password: "alice-Pass-1", Email: "alice@example.org", Name: "Alice Liddell",
		Groups: []string{"steward-support"}, Roles: []auth.Role{auth.Support}},
	{Login: "bob", Password: "bob-Pass-2", Email: "bob@example.org", Name: "Bob Builder",
		Groups: []string{"steward-analysts", "steward-auditors"}, Roles: []auth.Role{auth.Analyst, auth.Auditor}},
	{Login: "carol", Password: "carol-Pass-3", Email: "carol@example.org", Name: "Carol Danvers",
		Groups: []string{"engineering"}},
	{Login: "dave", Password: "dave-Pass-4", Email: "dave@example.org", Name: "Dave Lister",
		Groups: []string{"steward-admins", "engineering"}, Roles: []auth.Role{auth.Admin}},
	{Login: "frank,ops", Password: "frank-Pass-5", Email: "frank@example.org", Name: "Frank Ops",
		Groups: []string{"steward-support"}, Roles: []auth.Role{auth.Support}},
}

// GroupRoles is the mapping the fixture's Configs use; "engineering" is
// deliberately not mapped.
func GroupRoles() map[string]auth.Role {
	return map[string]auth.Role{
		"steward-support":  auth.Support,
		"steward-analysts": auth.Analyst,
		"steward-auditors": auth.Auditor,
		"steward-admins":   auth.Admin,
	}
}

// Lookup returns the fixture user with that login; it panics on a typo.
func Lookup(login string) User {
	for _, u := range Users {
		if u.Login == login {
			return u
		}
	}
	panic("ldaptest: no fixture user " + login)
}

// fixtureLDIF is the directory's content; passwords are stored as {SSHA}
// hashes, as a real directory would store them.
func fixtureLDIF() string {
	var b strings.Builder
	entry := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	entry("dn: "+BaseDN, "objectClass: dcObject", "objectClass: organization", "o: Example", "dc: example")
	for _, ou := range []string{"people", "groups", "services"} {
		entry("dn: ou="+ou+","+BaseDN, "objectClass: organizationalUnit", "ou: "+ou)
	}
	entry("dn: "+ServiceDN, "objectClass: organizationalRole", "objectClass: simpleSecurityObject",
		"cn: steward", "userPassword: "+ssha(ServicePassword))
	members := map[string][]string{}
	var groups []string
	for _, u := range Users {
		sn := u.Name[strings.LastIndexByte(u.Name, ' ')+1:]
		entry("dn: "+u.DN(), "objectClass: inetOrgPerson", "uid: "+u.Login, "cn: "+u.Name, "sn: "+sn,
			"mail: "+u.Email, "userPassword: "+ssha(u.Password))
		for _, g := range u.Groups {
			if members[g] == nil {
				groups = append(groups, g)
			}
			members[g] = append(members[g], u.DN())
		}
	}
	for _, g := range groups {
		lines := []string{"dn: cn=" + g + "," + GroupsDN, "objectClass: groupOfNames", "cn: " + g}
		for _, m := range members[g] {
			lines = append(lines, "member: "+m)
		}
		entry(lines...)
	}
	return b.String()
}

// ssha hashes a password the way slappasswd -h {SSHA} does.
func ssha(password string) string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	h := sha1.Sum(append([]byte(password), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}
