package registry

import (
	"strings"
	"testing"
)

func TestFingerprints(t *testing.T) {
	load := func(edit func(string) string) *Dataset {
		t.Helper()
		r, probs := Parse([]byte(edit(string(DefaultYAML))), "x")
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		return r.Dataset("interaction_data")
	}
	base := load(func(s string) string { return s })
	same := load(func(s string) string { return strings.Replace(s, "i18n language code.", "The language code.", 1) })
	if base.Fingerprint() != same.Fingerprint() || base.Field("language").Fingerprint() != same.Field("language").Fingerprint() {
		t.Fatal("a description change altered a fingerprint")
	}
	for name, edit := range map[string]func(string) string{
		"max length": func(s string) string { return strings.Replace(s, "max_length: 16", "max_length: 17", 1) },
		"category": func(s string) string {
			return strings.Replace(s, "language:      {type: string, max_length: 16, category: 1", "language:      {type: string, max_length: 16, category: 2", 1)
		},
		"nested": func(s string) string {
			return strings.Replace(s, "width:  {type: integer, min: 0, max: 100000}", "width:  {type: integer, min: 0, max: 99999}", 1)
		},
		"retention": func(s string) string { return strings.Replace(s, "retention: 120d", "retention: 121d", 1) },
	} {
		changed := load(edit)
		if changed.Fingerprint() == base.Fingerprint() {
			t.Errorf("%s: dataset fingerprint unchanged", name)
		}
	}
	if load(func(s string) string { return strings.Replace(s, "max_length: 16", "max_length: 17", 1) }).Field("language").Fingerprint() == base.Field("language").Fingerprint() {
		t.Error("field fingerprint unchanged by a constraint change")
	}
}

// TestFingerprintsStable pins the built-in datasets' fingerprints: a
// change to how a fingerprint is computed would void every review, so it
// must be deliberate.
func TestFingerprintsStable(t *testing.T) {
	r, probs := Parse(DefaultYAML, "x")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for name, want := range map[string]string{
		"interaction_data": "3440f6f72be1263c6da651fae5b2a13f7304ac0dd7637ee721f0a4f20da0599e",
		"request_log":      "69e8232a3601f585b25d904e88969b6b8bdd2a7ae4567a61191256904dee85e6",
	} {
		if got := r.Dataset(name).Fingerprint(); got != want {
			t.Errorf("%s: fingerprint %s, want %s", name, got, want)
		}
	}
	email := strings.Replace(string(DefaultYAML), "subject: {field: client_id, kind: pseudonymous}", "subject: {field: language, kind: direct, identifier: email}", 1)
	plain := strings.Replace(string(DefaultYAML), "subject: {field: client_id, kind: pseudonymous}", "subject: {field: language, kind: direct}", 1)
	a, _ := Parse([]byte(email), "x")
	b, _ := Parse([]byte(plain), "x")
	if a.Dataset("interaction_data").Fingerprint() == b.Dataset("interaction_data").Fingerprint() {
		t.Error("declaring an e-mail identifier left the fingerprint unchanged")
	}
	// suppress_erased counts only when declared: absent, the pins above
	// hold; declared, even as long as the retention, it is a change.
	suppress := strings.Replace(string(DefaultYAML), "    retention: 120d\n", "    retention: 120d\n    suppress_erased: 120d\n", 1)
	c, probs := Parse([]byte(suppress), "x")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if c.Dataset("interaction_data").Fingerprint() == r.Dataset("interaction_data").Fingerprint() {
		t.Error("declaring suppress_erased left the fingerprint unchanged")
	}
	if c.Dataset("request_log").Fingerprint() != r.Dataset("request_log").Fingerprint() {
		t.Error("suppress_erased on one dataset changed another's fingerprint")
	}
}
