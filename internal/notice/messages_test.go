package notice_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/notice"
)

// TestMessageFilesAgree: every language file has exactly the keys of
// en.json, each with the same placeholders and, for counted sentences,
// the plural forms its language needs; none is empty.
func TestMessageFilesAgree(t *testing.T) {
	ls := languages(t)
	all := ls.All()
	if len(all) < 2 || all[0].Lang() != "en" {
		t.Fatalf("languages: want English first and at least one other, got %d", len(all))
	}
	en := all[0]
	for _, m := range all[1:] {
		for _, k := range en.Keys() {
			if !m.Has(k) {
				t.Errorf("%s.json lacks %q", m.Lang(), k)
				continue
			}
			want, got := en.Raw(k), m.Raw(k)
			if len(want) > 1 != (len(got) > 1) {
				t.Errorf("%s.json %q: plural forms in one file and not the other", m.Lang(), k)
			}
			if !slices.Equal(notice.Placeholders(strings.Join(want, " ")), notice.Placeholders(strings.Join(got, " "))) {
				t.Errorf("%s.json %q: placeholders %v, English has %v", m.Lang(), k,
					notice.Placeholders(strings.Join(got, " ")), notice.Placeholders(strings.Join(want, " ")))
			}
		}
		for _, k := range m.Keys() {
			if !en.Has(k) {
				t.Errorf("%s.json has %q, which en.json does not", m.Lang(), k)
			}
		}
	}
	for _, m := range all {
		for _, k := range m.Keys() {
			for _, s := range m.Raw(k) {
				if strings.TrimSpace(s) == "" && k != "list.comma" {
					t.Errorf("%s.json %q is empty", m.Lang(), k)
				}
			}
		}
	}
}

func TestMessagesInWords(t *testing.T) {
	ls := languages(t)
	en, de := ls.Get("en"), ls.Get("de")
	for _, c := range []struct{ got, want string }{
		{en.Duration(120 * 24 * time.Hour), "120 days"},
		{en.Duration(24 * time.Hour), "1 day"},
		{en.Duration(14 * 24 * time.Hour), "2 weeks"},
		{en.Duration(10 * time.Minute), "10 minutes"},
		{de.Duration(120 * 24 * time.Hour), "120 Tage"},
		{de.Duration(time.Hour), "1 Stunde"},
		{en.Date(time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)), "22 November 2026"},
		{de.Date(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)), "2. März 2026"},
		{en.List([]string{"a", "b", "c"}), "a, b and c"},
		{de.List([]string{"a", "b"}), "a und b"},
		{en.Country("US"), "United States"},
		{de.Country("DE"), "Deutschland"},
		{en.Percent(0.5), "50%"},
		{de.Percent(0.5), "50 %"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, c := range []struct {
		accept, lang string
	}{{"de-DE,de;q=0.9,en;q=0.8", "de"}, {"fr-CH, fr;q=0.9", "en"}, {"", "en"}, {"en-GB", "en"}, {"de-AT", "de"}} {
		if got := ls.Match("", c.accept).Lang(); got != c.lang {
			t.Errorf("Accept-Language %q: %s, want %s", c.accept, got, c.lang)
		}
	}
	if got := ls.Match("de", "en").Lang(); got != "de" {
		t.Errorf("an explicit choice loses to the header: %s", got)
	}
}

// TestRoleDutiesAreDocumented: the notice names each role's duties as
// docs/roles.md documents them, word for word.
func TestRoleDutiesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	en := languages(t).Get("en")
	for _, r := range auth.Roles {
		row := regexp.MustCompile("(?m)^\\| `" + string(r) + "` \\| ([^|]+) \\|").FindSubmatch(doc)
		if row == nil {
			t.Errorf("docs/roles.md has no row for %s", r)
			continue
		}
		if got, want := strings.TrimSpace(string(row[1])), en.Duties(string(r)); got != want {
			t.Errorf("%s: docs/roles.md says %q, the notice %q", r, got, want)
		}
	}
}
