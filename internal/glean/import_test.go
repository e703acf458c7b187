package glean

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func read(t testing.TB, names ...string) []File {
	t.Helper()
	var out []File
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{Name: n, Data: b})
	}
	return out
}

const base = "controller: {name: Example Ltd, contact: privacy@example.org}\ndatasets: {}\n"

func propose(t *testing.T, files []File, opt Options) (*registry.Registry, *Result, []byte) {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = now
	}
	res, err := Import(files, opt)
	if err != nil {
		t.Fatal(err)
	}
	y, err := Proposal([]byte(base), res, opt.AppID, now)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	r, probs := registry.ParseWith(y, "p", registry.Options{Now: now})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	return r, res, y
}

// The glean_parser's own test files import, lint, and keep every metric.
func TestImportGleanParserFiles(t *testing.T) {
	r, res, y := propose(t, read(t, "all_metrics.yaml", "object.yaml", "dual_labeled.yaml", "pings.yaml"),
		Options{AppID: "org.example.App"})
	if res.Metrics < 30 {
		t.Fatalf("only %d metrics imported", res.Metrics)
	}
	m := r.Dataset("org_example_app_metrics")
	if m == nil || m.Glean.Ping != "metrics" || m.Subject == nil || r.DatasetByGlean("org-example-app", "metrics") != m {
		t.Fatalf("metrics dataset: %+v\n%s", m, y)
	}
	for metric, want := range map[string]registry.Type{
		"all_metrics.counter": registry.TypeInteger, "all_metrics.labeled_counter": registry.TypeObject,
		"all_metrics.dual_labeled_counter": registry.TypeArray, "all_metrics.bool": registry.TypeBoolean,
		"all_metrics.strlist": registry.TypeArray, "all_metrics.timespan": registry.TypeInteger,
		"all_metrics.timing_dist": registry.TypeObject, "all_metrics.datetime": registry.TypeTimestamp,
		"all_metrics.uuid": registry.TypeUUID, "all_metrics.url": registry.TypeString, "all_metrics.rate": registry.TypeObject,
	} {
		f := m.FieldByMetric(metric)
		if f == nil {
			t.Errorf("%s not imported", metric)
			continue
		}
		if f.Type != want || f.Glean.Type == "" {
			t.Errorf("%s: type %s, want %s", metric, f.Type, want)
		}
	}
	if f := m.FieldByMetric("all_metrics.counter"); f.Name != "all_metrics__counter" || f.Category != registry.CategoryHighlySensitive || !f.Unclassified {
		t.Errorf("a metric without data_sensitivity: %+v", f)
	}
	ev := r.Dataset("org_example_app_events").FieldByMetric("all_metrics.event")
	if ev == nil || ev.Type != registry.TypeArray || ev.Items == nil || ev.Items.Type != registry.TypeObject {
		t.Fatalf("event: %+v", ev)
	}
	custom := r.Dataset("org_example_app_custom_ping")
	if custom == nil || custom.Subject != nil || custom.Field("client_id") != nil {
		t.Fatalf("a ping without include_client_id has a subject: %+v", custom)
	}
	withReasons := r.Dataset("org_example_app_custom_ping_might_be_empty")
	if withReasons == nil || withReasons.Field("ping_reason") == nil || !strings.Contains(withReasons.Description, "silly: A silly reason") {
		t.Fatalf("reasons: %+v", withReasons)
	}
	unclassified := 0
	for _, w := range res.Warnings {
		if strings.Contains(w.Message, "has no data_sensitivity") {
			unclassified++
			if w.Source == "" || w.Line == 0 {
				t.Errorf("warning without file and line: %v", w)
			}
		}
	}
	if unclassified == 0 || len(registry.Unclassified(r)) == 0 {
		t.Fatal("no unclassified warning")
	}
	if !strings.Contains(string(y), "review:") || len(res.Links) == 0 || len(res.Owners) == 0 {
		t.Fatalf("review section: %v %v", res.Links, res.Owners)
	}
}

const metricsHead = "$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0\n"

func one(body string) []File { return []File{{Name: "metrics.yaml", Data: []byte(metricsHead + body)}} }

const defaults = `
    bugs: [https://bugs.example/1]
    data_reviews: [https://reviews.example/1]
    notification_emails: [team@example.org]
`

func TestImportMapping(t *testing.T) {
	r, res, _ := propose(t, one(`
browser.ui:
  clicks: &d
    type: counter
    description: Clicks.
    data_sensitivity: [technical, interaction]
    expires: 2027-01-01
    lifetime: application
    no_lint: [COMMON_PREFIX]`+defaults+`
  opened:
    <<: *d
    type: labeled_counter
    labels: [menu, toolbar]
    expires: never
    data_sensitivity: [highly_sensitive]
  later:
    <<: *d
    type: quantity
    unit: tabs
    expires: 120
  gone:
    <<: *d
    expires: expired
  old:
    <<: *d
    expires: 2020-01-01
  off:
    <<: *d
    type: string
    disabled: true
  token:
    <<: *d
    type: jwe
  picked:
    <<: *d
    type: event
    lifetime: ping
    extra_keys:
      source: {description: where, type: string}
`), Options{AppID: "app", AppVersion: 110})
	d := r.Dataset("app_metrics")
	clicks := d.FieldByMetric("browser.ui.clicks")
	if clicks.Name != "browser__ui__clicks" || clicks.Category != 2 || clicks.Expires.Format(time.DateOnly) != "2027-01-01" || clicks.Glean.Lifetime != "application" {
		t.Errorf("clicks: %+v", clicks)
	}
	if !strings.Contains(clicks.Description, "bugs: https://bugs.example/1") || !strings.Contains(clicks.Description, "data_sensitivity: technical, interaction") {
		t.Errorf("description: %s", clicks.Description)
	}
	if o := d.FieldByMetric("browser.ui.opened"); o.Category != 4 || !o.Expires.IsZero() || o.MaxKeys != 3 {
		t.Errorf("opened (merge key overrides): %+v", o)
	}
	if l := d.FieldByMetric("browser.ui.later"); l == nil || l.Glean.ExpiresVersion != 120 {
		t.Errorf("version expiry: %+v", l)
	}
	if d.FieldByMetric("browser.ui.gone") != nil || d.FieldByMetric("browser.ui.old") != nil {
		t.Error("an expired metric was imported")
	}
	if off := d.FieldByMetric("browser.ui.off"); off == nil || !strings.Contains(off.Description, "disabled") {
		t.Errorf("disabled: %+v", off)
	}
	if tok := d.FieldByMetric("browser.ui.token"); tok == nil || !tok.Minimise.Drop {
		t.Errorf("jwe: %+v", tok)
	}
	if p := r.Dataset("app_events").FieldByMetric("browser.ui.picked"); p == nil || p.Items.Fields[1].Fields[0].Name != "source" {
		t.Errorf("event extra keys: %+v", p)
	}
	var msgs []string
	for _, w := range res.Warnings {
		msgs = append(msgs, w.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"metrics.yaml:", "browser.ui.gone is expired", "browser.ui.old expired on 2020-01-01", "type jwe has no steward type"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	// Past the version: expired.
	r, _, _ = propose(t, one("a:\n  b:\n    type: counter\n    description: x\n    data_sensitivity: [technical]\n    expires: 100\n"+strings.ReplaceAll(defaults, "\n    ", "\n    ")+"  c:\n    type: boolean\n    description: x\n    data_sensitivity: [technical]\n    expires: never"+defaults), Options{AppID: "app", AppVersion: 100})
	if r.Dataset("app_metrics").FieldByMetric("a.b") != nil {
		t.Error("a metric expired by version was imported")
	}
}

func TestImportErrors(t *testing.T) {
	for name, c := range map[string]struct {
		files []File
		opt   Options
		want  string
	}{
		"yaml":         {one("a: [b"), Options{}, "metrics.yaml:1: not valid YAML: line 1"},
		"schema":       {[]File{{"m.yaml", []byte("$schema: moz://mozilla.org/schemas/glean/metrics/1-0-0\n")}}, Options{}, "m.yaml:1: $schema \"moz://mozilla.org/schemas/glean/metrics/1-0-0\" is not a schema steward knows"},
		"no schema":    {[]File{{"m.yaml", []byte("a: {}\n")}}, Options{}, "no $schema"},
		"category":     {one("Bad-Cat:\n  x: {}\n"), Options{}, "metrics.yaml:2: category \"Bad-Cat\" breaks Glean's naming rules"},
		"name":         {one("a:\n  Bad:\n    type: counter\n"), Options{}, "metrics.yaml:3: metric name \"Bad\" in a breaks"},
		"type":         {one("a:\n  b:\n    type: histogram\n    description: x\n    expires: never" + defaults), Options{}, "metrics.yaml:4: metric a.b: type \"histogram\" is not a Glean metric type"},
		"unknown key":  {one("a:\n  b:\n    type: counter\n    colour: red\n"), Options{}, "metrics.yaml:5: metric a.b: unknown key \"colour\""},
		"version":      {one("a:\n  b:\n    type: counter\n    description: x\n    expires: 12" + defaults), Options{}, "metrics.yaml:6: metric a.b: expires in major version 12: give the app's major version with --app-version"},
		"date":         {one("a:\n  b:\n    type: counter\n    description: x\n    expires: soon" + defaults), Options{}, "metric a.b: expires \"soon\" is not a date"},
		"missing":      {one("a:\n  b:\n    type: counter\n    description: x\n"), Options{}, "metrics.yaml:3: metric a.b: missing required key bugs"},
		"unknown ping": {one("a:\n  b:\n    type: counter\n    description: x\n    expires: never\n    send_in_pings: [nowhere]" + defaults), Options{}, "sent in ping nowhere, which no pings.yaml declares"},
		"app id":       {one(""), Options{AppID: "../etc"}, "--app-id"},
		"ping name":    {[]File{{"p.yaml", []byte("$schema: moz://mozilla.org/schemas/glean/pings/2-0-0\n../x: {}\n")}}, Options{}, "p.yaml:2: ping name \"../x\" breaks"},
		"merge":        {one("a:\n  b:\n    <<: 3\n"), Options{}, "metrics.yaml:4: a merge key (<<) must name a mapping"},
	} {
		if c.opt.AppID == "" {
			c.opt.AppID = "app"
		}
		c.opt.Now = now
		_, err := Import(c.files, c.opt)
		var ie *Error
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

// FuzzImport: the importer never panics, and what it accepts lints.
func FuzzImport(f *testing.F) {
	for _, n := range []string{"all_metrics.yaml", "object.yaml", "dual_labeled.yaml", "pings.yaml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	f.Add([]byte(metricsHead + "a:\n  b: &x\n    <<: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import([]File{{Name: "f.yaml", Data: data}}, Options{AppID: "app", AppVersion: 5, Now: now})
		if err != nil {
			return
		}
		if _, err := Proposal([]byte(base), res, "app", now); err != nil {
			var ie *Error
			if errors.As(err, &ie) {
				for _, p := range ie.Problems {
					if strings.Contains(p.Message, "not valid YAML") || strings.Contains(p.Message, "expired") {
						return
					}
				}
			}
			t.Fatalf("an accepted import does not lint: %v", err)
		}
	})
}

func BenchmarkImport500(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(metricsHead)
	types := []string{"counter", "boolean", "string", "labeled_counter", "timing_distribution", "event", "datetime", "quantity\n    unit: x", "rate", "string_list"}
	for c := 0; c < 50; c++ {
		sb.WriteString("cat_" + strings.Repeat("x", c%5) + string(rune('a'+c%26)) + "_" + itoa(c) + ":\n")
		for m := 0; m < 10; m++ {
			sb.WriteString("  metric_" + itoa(m) + ":\n    type: " + types[m] + "\n    description: A metric.\n    data_sensitivity: [interaction]\n    expires: never" + defaults)
		}
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		res, err := Import([]File{{Name: "m.yaml", Data: data}}, Options{AppID: "app", Now: now})
		if err != nil {
			b.Fatal(err)
		}
		if res.Metrics != 500 {
			b.Fatalf("%d metrics", res.Metrics)
		}
		if _, err := Proposal([]byte(base), res, "app", now); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
