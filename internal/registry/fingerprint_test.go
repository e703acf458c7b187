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
