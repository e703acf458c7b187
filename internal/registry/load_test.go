package registry

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDefaultLoads(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := r.Dataset("interaction_data")
	if d == nil || r.DatasetByAlias("/wsapi/interaction_data") != d || d.Retention != 120*24*time.Hour {
		t.Fatalf("interaction_data not loaded right: %+v", d)
	}
	for _, f := range []string{"timestamp", "event_stream", "email_type", "number_emails", "new_account", "language",
		"number_sites_logged_in", "screen_size", "sample_rate", "user_agent"} {
		if d.Field(f) == nil {
			t.Errorf("seed field %s missing", f)
		}
	}
	if ip := d.Field("client_ip"); ip.Minimise.TruncateV4 != 24 || ip.Minimise.TruncateV6 != 48 {
		t.Errorf("ip defaults: %+v", ip.Minimise)
	}
}

func TestLintProblems(t *testing.T) {
	base := "controller: {name: X, contact: x@example.org}\ndatasets:\n  d:\n    description: d\n    purpose: p\n    lawful_basis: consent\n    retention: 10d\n    owner: o@example.org\n    expires: never\n    fields:\n"
	cases := []struct {
		name, fields string
		line         int
		want         string
	}{
		{"unknown key", "      a: {type: string, category: 1, colour: red}\n", 11, `unknown key "colour"`},
		{"bad type", "      a: {type: text, category: 1}\n", 11, `"text" is not one of`},
		{"missing category", "      a: {type: string}\n", 11, "missing required key category"},
		{"bad category", "      a: {type: string, category: 7}\n", 11, "must be 1-4"},
		{"named category", "      a: {type: string, category: web_activity}\n", 0, ""},
		{"constraint on wrong type", "      a: {type: integer, category: 1, max_length: 3}\n", 11, "applies only to string fields, not integer"},
		{"min above max", "      a: {type: integer, category: 1, min: 5, max: 1}\n", 11, "min is larger than max"},
		{"bad round", "      a: {type: timestamp, category: 1, minimise: {round: soon}}\n", 11, "not a duration"},
		{"precise ip", "      a: {type: ip, category: 1, minimise: {truncate: /32}}\n", 11, "at most /24"},
		{"reserved name", "      event_id: {type: uuid, category: 1}\n", 11, "reserved"},
		{"enum without values", "      a: {type: enum, category: 1}\n", 11, "non-empty values"},
		{"field twice", "      a: {type: string, category: 1}\n      b: {type: string, category: 1}\n      a: {type: integer, category: 1}\n", 13,
			"datasets.d.fields.a: declared twice (first at line 11)"},
		{"nested field twice", "      o:\n        type: object\n        category: 1\n        fields:\n          x: {type: string}\n          x: {type: integer}\n", 16,
			"datasets.d.fields.o.fields.x: declared twice (first at line 15)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, probs := Parse([]byte(base+c.fields), "r.yaml")
			if c.want == "" {
				if len(probs) > 0 {
					t.Fatalf("unexpected: %v", probs)
				}
				return
			}
			if len(probs) == 0 || probs[0].Line != c.line || !strings.Contains(probs[0].Message, c.want) {
				t.Fatalf("got %v, want line %d with %q", probs, c.line, c.want)
			}
		})
	}
	expired := strings.Replace(base, "expires: never", "expires: 2020-01-01", 1) + "      a: {type: string, category: 1}\n"
	if _, probs := Parse([]byte(expired), "r.yaml"); len(probs) != 1 || probs[0].Line != 9 || !strings.Contains(probs[0].Message, "expired") {
		t.Fatalf("expired: %v", probs)
	}
	if _, probs := ParseWith([]byte(expired), "r.yaml", Options{AllowExpired: true}); len(probs) != 0 {
		t.Fatalf("expired with AllowExpired: %v", probs)
	}
	if _, probs := Parse([]byte("datasets: [\n"), "r.yaml"); len(probs) != 1 || !strings.Contains(probs[0].Message, "not valid YAML") {
		t.Fatalf("bad yaml: %v", probs)
	}
	bad := strings.Replace(base, "retention: 10d", "retention: forever", 1) + "      a: {type: string, category: 1}\n"
	if _, probs := Parse([]byte(bad), "r.yaml"); len(probs) != 1 || probs[0].Line != 7 {
		t.Fatalf("bad retention: %v", probs)
	}
}

func TestSubjectIdentifier(t *testing.T) {
	base := "controller: {name: X, contact: x@example.org}\ndatasets:\n  d:\n    description: d\n    purpose: p\n    lawful_basis: consent\n    retention: 10d\n    owner: o@example.org\n    expires: never\n" +
		"    fields:\n      email: {type: string, category: 2}\n      client: {type: uuid, category: 2}\n"
	for _, c := range []struct{ subject, want, identifier string }{
		{"{field: email, kind: direct}", "", ""},
		{"{field: email, kind: direct, identifier: email}", "", IdentifierEmail},
		{"{field: email, kind: direct, identifier: phone}", "must be email", ""},
		{"{field: client, kind: pseudonymous, identifier: email}", "only to a string field, not uuid", ""},
		{"{field: email, kind: direct, identifier: [email]}", "expected a text value", ""},
	} {
		r, probs := Parse([]byte(base+"    subject: "+c.subject+"\n"), "r.yaml")
		switch {
		case c.want == "" && len(probs) > 0:
			t.Errorf("%s: unexpected %v", c.subject, probs)
		case c.want == "" && r.Dataset("d").Subject.Identifier != c.identifier:
			t.Errorf("%s: identifier %q", c.subject, r.Dataset("d").Subject.Identifier)
		case c.want != "" && (len(probs) == 0 || probs[0].Line != 13 || !strings.Contains(probs[0].Message, c.want)):
			t.Errorf("%s: got %v, want line 13 with %q", c.subject, probs, c.want)
		}
	}
}

func TestSuppressErased(t *testing.T) {
	base := "controller: {name: X, contact: x@example.org}\ndatasets:\n  d:\n    description: d\n    purpose: p\n    lawful_basis: consent\n    retention: 10d\n    owner: o@example.org\n    expires: never\n" +
		"    fields:\n      email: {type: string, category: 2}\n"
	subject := "    subject: {field: email, kind: direct, identifier: email}\n"
	for _, c := range []struct {
		yaml, want string
		line       int
		suppress   time.Duration
	}{
		{subject, "", 0, 10 * 24 * time.Hour}, // the retention by default
		{subject + "    suppress_erased: 400d\n", "", 0, 400 * 24 * time.Hour},
		{subject + "    suppress_erased: 36h\n", "", 0, 36 * time.Hour},
		{subject + "    suppress_erased: forever\n", `datasets.d.suppress_erased: "forever" is not a duration like 10m, 36h, 120d or 2w`, 13, 0},
		{subject + "    suppress_erased: 0d\n", "datasets.d.suppress_erased: must be longer than zero", 13, 0},
		{"    suppress_erased: 30d\n", "datasets.d.suppress_erased: applies only to a dataset with a subject", 12, 0},
	} {
		r, probs := Parse([]byte(base+c.yaml), "r.yaml")
		switch {
		case c.want == "" && len(probs) > 0:
			t.Errorf("%q: unexpected %v", c.yaml, probs)
		case c.want == "" && r.Dataset("d").SuppressFor() != c.suppress:
			t.Errorf("%q: suppressed for %s, want %s", c.yaml, r.Dataset("d").SuppressFor(), c.suppress)
		case c.want != "" && (len(probs) != 1 || probs[0].Line != c.line || !strings.Contains(probs[0].Message, c.want)):
			t.Errorf("%q: got %v, want line %d with %q", c.yaml, probs, c.line, c.want)
		}
	}
}

// A dataset declared twice is refused, not silently replaced by the second.
func TestDatasetDeclaredTwice(t *testing.T) {
	ds := "  d:\n    description: d\n    purpose: p\n    lawful_basis: consent\n    retention: 10d\n    owner: o@example.org\n    expires: never\n    fields:\n      a: {type: string, category: 1}\n"
	_, probs := Parse([]byte("controller: {name: X, contact: x@example.org}\ndatasets:\n"+ds+ds), "r.yaml")
	if len(probs) != 1 || probs[0].Line != 12 || !strings.Contains(probs[0].Message, "datasets.d: declared twice (first at line 3)") {
		t.Fatalf("got %v", probs)
	}
}

// Problems come in file order, whatever order the checks found them in.
func TestLintProblemsSortedByLine(t *testing.T) {
	doc := `controller: {name: X, contact: x@example.org}
datasets:
  d:
    description: d
    purpose: p
    lawful_basis: nope
    owner: o@example.org
    expires: never
    fields:
      a: {type: strin, category: 1}
    subject: {field: zz, kind: pseudonymous}
    access: {server_to_server: true}
`
	_, probs := Parse([]byte(doc), "r.yaml")
	var lines []int
	for _, p := range probs {
		lines = append(lines, p.Line)
	}
	if want := []int{4, 6, 10, 11, 12}; fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("lines %v, want %v:\n%v", lines, want, probs)
	}
}
