package policy

import (
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
)

func TestDefaultPolicy(t *testing.T) {
	reg, err := registry.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, probs := Parse(DefaultYAML, "default.yaml", reg)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	cases := []struct {
		role    auth.Role
		purpose string
		allowed bool
		maxCat  registry.Category
	}{
		{auth.Analyst, "product_improvement", true, 2},
		{auth.Analyst, "marketing", false, 0},
		{auth.Analyst, "", false, 0},
		{auth.Support, "product_improvement", false, 0},
		{auth.Admin, "product_improvement", false, 0},
		{auth.DataSteward, "data_quality", true, 4},
	}
	for _, c := range cases {
		d := p.Decide("interaction_data", c.role, c.purpose)
		if d.Allowed != c.allowed || d.MaxCategory != c.maxCat || d.Reason == "" {
			t.Errorf("%s/%q: %+v", c.role, c.purpose, d)
		}
	}
}

func TestPolicyLint(t *testing.T) {
	reg, _ := registry.Default()
	doc := "datasets:\n  nope:\n    - {role: analyst, purposes: [x], max_category: 1}\n  interaction_data:\n    - {role: king, purposes: [x], max_category: 9, colour: red}\n    - {role: analyst}\n    - {role: analyst, purposes: [x], max_category: 1, raw_identifiers: true}\n    - {role: app, purposes: [product_improvement], max_category: 1}\n"
	_, probs := Parse([]byte(doc), "p.yaml", reg)
	var lines []string
	for _, p := range probs {
		lines = append(lines, p.String())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"p.yaml:2: datasets.nope: no such dataset", "p.yaml:5: datasets.interaction_data: unknown role", "max_category must be", `unknown key "colour"`, "p.yaml:6: datasets.interaction_data: rule is missing purposes", "p.yaml:7: datasets.interaction_data: analysts see only keyed subject keys", "p.yaml:8: datasets.interaction_data: role app is the product backend's credential"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// TestForOtherVersions: the policy as it governs a registry other than the
// one in force leaves out the rules of datasets that registry lacks,
// instead of refusing everything.
func TestForOtherVersions(t *testing.T) {
	full, _ := registry.Default()
	regs := registry.Static(full)
	src := NewSource(DefaultYAML, "built-in policy", regs, nil)
	older, problems := registry.ParseWith([]byte(strings.Split(string(registry.DefaultYAML), "  request_log:")[0]), "v1", registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	p := src.For(older)
	if len(p.Rules("interaction_data")) != 3 || len(p.Rules("request_log")) != 0 {
		t.Fatalf("rules for the older version: %d and %d", len(p.Rules("interaction_data")), len(p.Rules("request_log")))
	}
	if got := src.For(full); got != src.Current() {
		t.Fatal("For of the registry in force is not the policy in force")
	}
	bad := NewSource([]byte("datasets:\n  interaction_data:\n    - {role: king, purposes: [x], max_category: 1}\n"), "bad", regs, nil)
	if rules := bad.For(older).Rules("interaction_data"); len(rules) != 0 {
		t.Fatalf("a policy with a real problem grants %d rules", len(rules))
	}
}

// A rule may name only a purpose some dataset declares, or one of
// steward's own: a misspelt purpose would be a rule that never applies.
func TestPolicyPurposeDeclared(t *testing.T) {
	reg, _ := registry.Default()
	doc := "datasets:\n  interaction_data:\n    - role: analyst\n      purposes: [product_improvment]\n      max_category: 1\n    - {role: support, purposes: [data_subject_request], max_category: 4}\n  request_log:\n    - {role: analyst, purposes: [service_debugging, data_quality], max_category: 1}\n  interaction_data:\n    - {role: auditor, purposes: [product_improvement], max_category: 1}\n"
	_, probs := Parse([]byte(doc), "p.yaml", reg)
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{
		`p.yaml:4: datasets.interaction_data: purpose "product_improvment" is declared by no dataset in the registry (declared: product_improvement, service_debugging) and is not one of steward's own (data_quality, data_subject_request)`,
		"p.yaml:9: datasets.interaction_data: listed twice (first at line 2); put all its rules in one list",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
