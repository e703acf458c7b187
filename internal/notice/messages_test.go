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

// TestEveryKindHasWords: every kind of change, question, received and
// computed value, stored form, field type and measure reads as a sentence
// in every language, never as a bare key or a placeholder.
func TestEveryKindHasWords(t *testing.T) {
	keyLike := regexp.MustCompile(`\b(change|q|recv|comp|stored|type|signal|records|source|category|from|subject|system|role|duration)\.[a-z_.-]+|\{[a-z]+\}`)
	check := func(m *notice.Messages, what, s string) {
		t.Helper()
		if strings.TrimSpace(s) == "" || keyLike.MatchString(s) {
			t.Errorf("%s in %s: %q", what, m.Lang(), s)
		}
	}
	changes := []string{notice.ChangeControllerName, notice.ChangeControllerContact, notice.ChangeControllerDPO, notice.ChangeDatasetAdded,
		notice.ChangeDatasetRemoved, notice.ChangeDescription, notice.ChangePurpose, notice.ChangeBasis, notice.ChangeExpires,
		notice.ChangeFrom, notice.ChangeOrigins, notice.ChangeEndpoint, notice.ChangeSample, notice.ChangeSubject, notice.ChangeFieldAdded,
		notice.ChangeFieldRemoved, notice.ChangeFieldDescription, notice.ChangeFieldSource, notice.ChangeFieldDefinition,
		notice.ChangeStored, notice.ChangeCategory, notice.ChangeReceived, notice.ChangeComputed, notice.ChangeReaderAdded,
		notice.ChangeReaderRemoved, notice.ChangeReaderPurposes, notice.ChangeReaderFieldsGained, notice.ChangeReaderFieldsLost,
		notice.ChangeOptOut, notice.ChangeLocation, notice.ChangeAccessLogReaders, notice.ChangeWorkers, notice.ChangeSystemAdded,
		notice.ChangeSystemRemoved, notice.ChangeSystemLabel, notice.ChangeSystemLocation, notice.ChangeSystemSafeguards, notice.ChangeOther}
	values := map[string][2]string{
		notice.ChangeFrom: {"browser", "server"}, notice.ChangeFieldSource: {"payload", "request"}, notice.ChangeCategory: {"1", "3"},
		notice.ChangeStored: {"as_sent", "rounded 10m"}, notice.ChangeFieldAdded: {"", "truncated 24/48"}, notice.ChangeSample: {"1", "0.5"},
		notice.ChangeOptOut: {"opt-out, gpc, dnt", "opt-out"}, notice.ChangeLocation: {"DE", "US"}, notice.ChangeExpires: {"", "2027-12-31"},
		notice.ChangeAccessLogReaders: {"auditor", "auditor, incident_manager"}, notice.ChangeDatasetAdded: {"", "30d"},
	}
	for _, m := range languages(t).All() {
		for _, kind := range changes {
			v := values[kind]
			c := notice.Change{Kind: kind, Dataset: "accounts", Field: "email", Role: "analyst", System: "app_db", From: v[0], To: v[1], Text: "A description"}
			if c.From == "" && c.To == "" {
				c.From, c.To = "a", "b"
			}
			check(m, kind, m.Change(c))
		}
		for _, kind := range []string{notice.ChangeRetention, notice.ChangeSuppressed, notice.ChangeGrace} {
			check(m, kind, m.Change(notice.Change{Kind: kind, Dataset: "accounts", From: "30d", To: "60d"}))
			check(m, kind, m.Change(notice.Change{Kind: kind, Dataset: "accounts", From: "60d", To: "30d"}))
		}
		for _, kind := range []string{notice.ChangeReaderLookup, notice.ChangeReaderRaw, notice.ChangeSupport} {
			for _, to := range []string{"on", "off"} {
				check(m, kind, m.Change(notice.Change{Kind: kind, Dataset: "accounts", Role: "support", From: "x", To: to}))
			}
		}
		for _, q := range []string{notice.QFindBySubject, notice.QNetwork, notice.QServerNetwork, notice.QTime, notice.QNotLinked,
			notice.QExactAddress, notice.QNoAddress, notice.QExactAgent, notice.QExactTime, notice.QHashedValue, notice.QDropped, notice.QUndeclared} {
			check(m, q, m.Question(notice.Question{Kind: q, Field: "email", Round: notice.Duration(time.Hour), IPv4: 24, IPv6: 48}))
		}
		n := &notice.Notice{OptOut: []string{"opt-out", "gpc", "dnt"}, RateLimited: true}
		for _, from := range []string{notice.FromBrowser, notice.FromServer} {
			d := notice.Dataset{Name: "accounts", From: from, Fields: []notice.Field{{Name: "email", Type: "ip", Source: "request"}}}
			for _, item := range []string{notice.RecvBody, notice.RecvAddress, notice.RecvUserAgent, notice.RecvCookies, notice.RecvCSRFHeader,
				notice.RecvOrigin, notice.RecvWriteKey, notice.RecvGPC, notice.RecvDNT, notice.RecvForwardedIP} {
				check(m, item, m.Received(n, d, notice.Received{Item: item}))
				check(m, item, m.Received(n, d, notice.Received{Item: item, Fields: []string{"email"}}))
			}
			for _, item := range []string{notice.CompReceiveTime, notice.CompSubjectKey, notice.CompEventID, notice.CompField} {
				check(m, item, m.Computed(d, notice.Computed{Item: item, Field: "email", Round: notice.Duration(10 * time.Minute)}))
			}
			check(m, "opt-out", m.OptOutFor(n, d))
			check(m, "from", m.From(d))
			for _, typ := range []string{"ip", "user_agent"} {
				check(m, "source "+typ, m.Source(d, notice.Field{Type: typ, Source: "request"}))
			}
		}
		for _, form := range []notice.Stored{{Form: notice.AsSent}, {Form: notice.Rounded, Round: notice.Duration(time.Hour)},
			{Form: notice.Truncated, IPv4: 24, IPv6: 48}, {Form: notice.Coarse}, {Form: notice.Hashed}, {Form: notice.NotStored}} {
			check(m, form.Form, m.StoredAs(form))
		}
		for _, typ := range []string{"string", "integer", "number", "boolean", "timestamp", "enum", "array", "object", "ip", "user_agent", "uuid"} {
			check(m, typ, m.Type(notice.Field{Type: typ, Values: []string{"a", "b"}}))
		}
		for _, kind := range []string{"pseudonymous", "direct"} {
			check(m, kind, m.Subject(notice.Dataset{Subject: &notice.Subject{Field: "id", Kind: kind}}))
		}
		check(m, "no subject", m.Subject(notice.Dataset{}))
		for _, s := range []notice.System{{Kind: "events"}, {Name: "a", Location: "DE"}, {Name: "b", Location: "US"}, {Name: "c", Location: "US", Safeguards: "SCC"}} {
			check(m, "system", m.System(s))
		}
		for _, r := range auth.Roles {
			check(m, string(r), m.Role(string(r))+" "+m.Duties(string(r)))
		}
		reg := wideRegistry(t)
		for _, ms := range []notice.Measures{{Database: "sqlite", DatabaseTLS: "local", MailServer: "mx", MailTLS: "required", CheckpointEvery: time.Hour},
			{Database: "postgres", DatabaseTLS: "off", HTTPS: true, MailServer: "mx", MailTLS: "opportunistic", CheckpointEvery: time.Hour, Witness: true},
			{Database: "postgres", DatabaseTLS: "required", MailServer: "mx", MailTLS: "off"}, {Database: "postgres", DatabaseTLS: "verified"}} {
			r := notice.BuildRecords(notice.Version{Number: 1, Notice: build(t, inputs(reg, widePolicy(t, reg)))}, ms, m, time.Now())
			for _, x := range r.Measures {
				check(m, x.ID, x.Description)
			}
			for _, a := range r.Activities {
				check(m, a.ID, a.DataSubjects+" "+a.ErasureLimit+" "+a.LawfulBasis+" "+a.Purposes[0])
				for _, rc := range a.Recipients {
					check(m, a.ID, rc.Description)
				}
			}
		}
	}
}
