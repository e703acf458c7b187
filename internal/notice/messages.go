package notice

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// The notice's fixed sentences, one file per language: messages/xx.json
// (the file's name is the language's BCP 47 tag). Adding a language is
// adding a file; TestMessageFilesAgree checks that every file has every
// key of en.json with the same placeholders.
//
//go:embed messages/*.json
var messageFiles embed.FS

// Messages are the fixed sentences of one language.
type Messages struct {
	Tag  language.Tag
	text map[string]message
	// fallback is English, for a key a file lacks (the test keeps that
	// from happening; a page never shows a bare key).
	fallback *Messages
}

// message is a sentence, or its plural forms ("one", "other", …: the CLDR
// categories) when it counts something.
type message struct {
	text   string
	plural map[string]string
}

func (m *message) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, &m.plural)
	}
	return json.Unmarshal(b, &m.text)
}

// Languages are the loaded message files, English first.
type Languages struct {
	list    []*Messages
	matcher language.Matcher
}

// LoadLanguages reads the embedded message files. It fails only on a
// broken file, which the tests catch before a release.
func LoadLanguages() (*Languages, error) {
	return loadLanguages(messageFiles)
}

func loadLanguages(fsys fs.FS) (*Languages, error) {
	names, err := fs.Glob(fsys, "messages/*.json")
	if err != nil {
		return nil, err
	}
	var en *Messages
	ls := &Languages{}
	for _, n := range names {
		tag, err := language.Parse(strings.TrimSuffix(path.Base(n), ".json"))
		if err != nil {
			return nil, fmt.Errorf("notice: %s: the file name is not a language tag: %v", n, err)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		m := &Messages{Tag: tag}
		if err := json.Unmarshal(b, &m.text); err != nil {
			return nil, fmt.Errorf("notice: %s: %v", n, err)
		}
		if tag == language.English {
			en = m
		}
		ls.list = append(ls.list, m)
	}
	if en == nil {
		return nil, fmt.Errorf("notice: no messages/en.json")
	}
	slices.SortStableFunc(ls.list, func(a, b *Messages) int {
		switch {
		case a == en:
			return -1
		case b == en:
			return 1
		}
		return strings.Compare(a.Tag.String(), b.Tag.String())
	})
	tags := make([]language.Tag, len(ls.list))
	for i, m := range ls.list {
		tags[i] = m.Tag
		if m != en {
			m.fallback = en
		}
	}
	ls.matcher = language.NewMatcher(tags)
	return ls, nil
}

// All lists the languages, English first.
func (ls *Languages) All() []*Messages { return slices.Clone(ls.list) }

// Get returns the messages of tag exactly, or nil.
func (ls *Languages) Get(tag string) *Messages {
	t, err := language.Parse(tag)
	if err != nil {
		return nil
	}
	for _, m := range ls.list {
		if m.Tag == t {
			return m
		}
	}
	return nil
}

// Match picks the language for an explicit choice (a ?lang= parameter)
// or else an Accept-Language header; English when nothing fits.
func (ls *Languages) Match(choice, acceptLanguage string) *Messages {
	if m := ls.Get(choice); m != nil {
		return m
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return ls.list[0]
	}
	_, i, conf := ls.matcher.Match(prefs...)
	if conf == language.No {
		return ls.list[0]
	}
	return ls.list[i]
}

// Lang is the language's tag, for lang attributes and links.
func (m *Messages) Lang() string { return m.Tag.String() }

// Keys lists every key of the file.
func (m *Messages) Keys() []string {
	out := make([]string, 0, len(m.text))
	for k := range m.text {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Has reports whether the file itself has key (not its fallback).
func (m *Messages) Has(key string) bool { _, ok := m.text[key]; return ok }

// Raw returns the sentence or every plural form of key, for tests.
func (m *Messages) Raw(key string) []string {
	msg, ok := m.text[key]
	if !ok {
		return nil
	}
	if msg.plural == nil {
		return []string{msg.text}
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(msg.plural)) {
		out = append(out, msg.plural[k])
	}
	return out
}

func (m *Messages) lookup(key string) (message, bool) {
	if msg, ok := m.text[key]; ok {
		return msg, true
	}
	if m.fallback != nil {
		return m.fallback.lookup(key)
	}
	return message{}, false
}

// T is the sentence key with its {placeholders} filled from kv, given as
// name, value pairs. An unknown key reads as the key itself.
func (m *Messages) T(key string, kv ...string) string {
	msg, ok := m.lookup(key)
	if !ok {
		return key
	}
	s := msg.text
	if msg.plural != nil {
		s = msg.plural["other"]
	}
	return fill(s, kv)
}

// N is the plural form of key for the count n, with {n} and kv filled.
func (m *Messages) N(key string, n int, kv ...string) string {
	msg, ok := m.lookup(key)
	if !ok {
		return key
	}
	s := msg.text
	if msg.plural != nil {
		s = msg.plural[pluralForm(m.Tag, n)]
		if s == "" {
			s = msg.plural["other"]
		}
	}
	return fill(s, append([]string{"n", strconv.Itoa(n)}, kv...))
}

// Opt is T for a key that may be missing: "" then, so a caller can fall
// back on words of its own (a purpose the files do not name).
func (m *Messages) Opt(key string, kv ...string) string {
	if _, ok := m.lookup(key); !ok {
		return ""
	}
	return m.T(key, kv...)
}

func pluralForm(tag language.Tag, n int) string {
	switch plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0) {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}

func fill(s string, kv []string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

// Placeholders lists the {names} of a sentence, sorted, for the test that
// keeps translations in step.
func Placeholders(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if name := s[i+1 : i+j]; !slices.Contains(out, name) {
			out = append(out, name)
		}
		s = s[i+j+1:]
	}
	slices.Sort(out)
	return out
}

// Duration is d in words: "120 days", "10 minutes".
func (m *Messages) Duration(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d <= 0:
		return m.T("duration.none")
	case d%(7*day) == 0 && d/(7*day) < 10:
		return m.N("duration.weeks", int(d/(7*day)))
	case d%day == 0:
		return m.N("duration.days", int(d/day))
	case d%time.Hour == 0:
		return m.N("duration.hours", int(d/time.Hour))
	case d%time.Minute == 0:
		return m.N("duration.minutes", int(d/time.Minute))
	}
	return m.N("duration.seconds", int(d/time.Second))
}

// Date is a day in words: "22 November 2026".
func (m *Messages) Date(t time.Time) string {
	t = t.UTC()
	return m.T("date", "day", strconv.Itoa(t.Day()), "month", m.T("month."+strconv.Itoa(int(t.Month()))),
		"year", strconv.Itoa(t.Year()))
}

// Country is an ISO 3166-1 code's country name in this language.
func (m *Messages) Country(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := display.Regions(m.Tag).Name(r); name != "" {
		return name
	}
	return code
}

// List joins items the way the language does: "a, b and c".
func (m *Messages) List(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return m.T("list", "items", strings.Join(items[:len(items)-1], m.T("list.comma")), "last", items[len(items)-1])
}

// Percent is a share in words: "50 %" or "50%".
func (m *Messages) Percent(share float64) string {
	return m.T("percent", "n", strconv.FormatFloat(share*100, 'f', -1, 64))
}
