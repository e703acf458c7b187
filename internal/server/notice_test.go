package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
)

// getWith fetches path with extra headers and returns status, body and
// headers.
func getWith(t *testing.T, u string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

var fieldRow = regexp.MustCompile(`(?s)<tr data-field="([^"]+)">.*?class="stored">(.*?)</td>.*?class="kept">(.*?)</td></tr>`)

// noticeFields reads the stored-data table of one dataset's section:
// field → stored form and retention, as the page shows them.
func noticeFields(t *testing.T, page, dataset string) map[string][2]string {
	t.Helper()
	start := strings.Index(page, `<section id="`+dataset+`"`)
	if start < 0 {
		t.Fatalf("the notice has no section for %s", dataset)
	}
	section := page[start:]
	section = section[:strings.Index(section, "</section>")]
	out := map[string][2]string{}
	for _, m := range fieldRow.FindAllStringSubmatch(section, -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("%s.%s appears twice in the notice", dataset, m[1])
		}
		out[m[1]] = [2]string{html.UnescapeString(m[2]), html.UnescapeString(m[3])}
	}
	return out
}

// TestPublicNoticeShowsTheRegistry: /privacy shows, for every dataset of
// the registry in force, every declared field once with how it is stored
// and for how long, and nothing else; in English or German.
func TestPublicNoticeShowsTheRegistry(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	reg := n.srv.Registry.Current()
	en := n.srv.Languages.Get("en")
	status, page, hdr := getWith(t, n.http.URL+"/privacy", nil)
	if status != http.StatusOK || hdr.Get("Content-Language") != "en" {
		t.Fatalf("/privacy: %d %s", status, hdr.Get("Content-Language"))
	}
	inShell(t, "/privacy", page)
	cur, _ := n.srv.Notice.Current(context.Background())
	for _, d := range reg.Datasets {
		shown := noticeFields(t, page, d.Name)
		if len(shown) != len(d.Fields) {
			t.Errorf("%s: %d fields shown, %d declared", d.Name, len(shown), len(d.Fields))
		}
		var nd notice.Dataset
		for _, x := range cur.Notice.Datasets {
			if x.Name == d.Name {
				nd = x
			}
		}
		for _, f := range d.Fields {
			got, ok := shown[f.Name]
			if !ok {
				t.Errorf("%s.%s is declared and not shown", d.Name, f.Name)
				continue
			}
			nf := nd.Field(f.Name)
			if want := [2]string{en.StoredAs(nf.Stored), en.Duration(d.Retention)}; got != want {
				t.Errorf("%s.%s: shown %q, want %q", d.Name, f.Name, got, want)
			}
		}
		for name := range shown {
			if d.Field(name) == nil {
				t.Errorf("%s: the notice shows %s, which is not declared", d.Name, name)
			}
		}
	}
	for _, want := range []string{"Version 1, in force since 22 November 2026.", "Example Ltd is responsible for this data",
		"rounded down to 10 minutes", "its network only: the first 24 bits of an IPv4 address", "Analysts may read it for improving the product",
		"which auditors and incident managers check", "Global Privacy Control: your browser sends Sec-GPC: 1", `href="/privacy/requests/new"`} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("/privacy does not say %q", want)
		}
	}

	// German, by the browser's language or by choice.
	for _, hdr := range []map[string]string{{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}, nil} {
		u := n.http.URL + "/privacy"
		if hdr == nil {
			u += "?lang=de"
		}
		status, de, h := getWith(t, u, hdr)
		if status != http.StatusOK || h.Get("Content-Language") != "de" || !strings.Contains(de, `<html lang="de">`) {
			t.Fatalf("German notice: %d %s", status, h.Get("Content-Language"))
		}
		inShell(t, "/privacy in German", de)
		for _, want := range []string{"<h1>Datenschutzhinweis</h1>", "Fassung 1, gültig seit dem 22. November 2026.",
			"abgerundet auf 10 Minuten", "Analysten dürfen sie lesen für Verbesserung des Produkts", "120 Tage"} {
			if !strings.Contains(html.UnescapeString(de), want) {
				t.Errorf("the German notice does not say %q", want)
			}
		}
		for _, d := range reg.Datasets {
			if got := noticeFields(t, de, d.Name); len(got) != len(d.Fields) {
				t.Errorf("German %s: %d fields", d.Name, len(got))
			}
		}
	}

	// The JSON is the same notice.
	var pub struct {
		Version         int            `json:"version"`
		RegistryVersion int64          `json:"registry_version"`
		InForceSince    time.Time      `json:"in_force_since"`
		Notice          *notice.Notice `json:"notice"`
	}
	status, body, hdr := getWith(t, n.http.URL+"/privacy.json", nil)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &pub) != nil {
		t.Fatalf("/privacy.json: %d %s", status, body)
	}
	if pub.Version != 1 || pub.RegistryVersion != 1 || !pub.InForceSince.Equal(testNow) || len(notice.Diff(cur.Notice, pub.Notice)) != 0 {
		t.Fatalf("/privacy.json: version %d registry %d since %s", pub.Version, pub.RegistryVersion, pub.InForceSince)
	}
}

// TestNoticeVersionsFollowTheRegistry: publishing a registry version that
// changes the notice makes a new dated version whose changes the history
// page says in plain words; the old version stays readable.
func TestNoticeVersionsFollowTheRegistry(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	if _, body, _ := getWith(t, n.http.URL+"/privacy", nil); !strings.Contains(body, "Version 1,") {
		t.Fatal("the first notice is not version 1")
	}
	n.clock.Advance(48 * time.Hour)
	if _, _, err := n.srv.Registry.Publish(ctx, withTheme(newVersion), "proposal.yaml", registry.Approval{By: "data steward"}); err != nil {
		t.Fatal(err)
	}
	status, page, _ := getWith(t, n.http.URL+"/privacy", nil)
	if status != http.StatusOK || !strings.Contains(page, "Version 2, in force since 24 November 2026.") {
		t.Fatalf("after publishing: %d\n%s", status, page)
	}
	if got := noticeFields(t, page, "signup"); len(got) != 1 {
		t.Fatalf("the new dataset's fields: %v", got)
	}
	if _, ok := noticeFields(t, page, "interaction_data")["theme"]; !ok {
		t.Fatal("the new field is not in the notice")
	}
	status, hist, _ := getWith(t, n.http.URL+"/privacy/history", nil)
	if status != http.StatusOK {
		t.Fatalf("history: %d", status)
	}
	inShell(t, "/privacy/history", hist)
	hist = html.UnescapeString(hist)
	for _, want := range []string{"Version 2", "In force since 24 November 2026. In force now.",
		"New field theme in interaction_data: Colour scheme. Stored: as sent.",
		"New dataset signup, kept for 30 days: Sign-up funnel steps.",
		"Version 1", "The first version.", `href="/privacy/history/1"`} {
		if !strings.Contains(hist, want) {
			t.Errorf("the history does not say %q:\n%s", want, hist)
		}
	}
	if strings.Index(hist, "Version 2") > strings.Index(hist, "Version 1") {
		t.Error("the history does not list the newest version first")
	}
	status, old, _ := getWith(t, n.http.URL+"/privacy/history/1", nil)
	if status != http.StatusOK || !strings.Contains(old, "It no longer applies: version 2 is in force.") || strings.Contains(old, `id="signup"`) {
		t.Fatalf("version 1: %d", status)
	}
	for _, bad := range []string{"/privacy/history/3", "/privacy/history/0", "/privacy/history/one"} {
		status, body, _ := getWith(t, n.http.URL+bad, map[string]string{"Accept": "text/html"})
		if status != http.StatusNotFound || !strings.Contains(body, "The privacy notice has versions 1 to 2.") {
			t.Errorf("%s: %d", bad, status)
		}
	}
	// A version that changes nothing the notice says is not a new one.
	quiet := []byte(strings.Replace(string(withTheme(newVersion)), "owner: ops@example.org", "owner: sre@example.org", 1))
	if _, _, err := n.srv.Registry.Publish(ctx, quiet, "owner.yaml", registry.Approval{By: "data steward"}); err != nil {
		t.Fatal(err)
	}
	if _, page, _ := getWith(t, n.http.URL+"/privacy", nil); !strings.Contains(page, "Version 2,") {
		t.Fatal("a registry version that changes nothing public made a new notice version")
	}
	var gpc map[string]any
	status, body, _ := getWith(t, n.http.URL+"/.well-known/gpc.json", nil)
	if status != http.StatusOK || json.Unmarshal([]byte(body), &gpc) != nil || gpc["gpc"] != true || gpc["lastUpdate"] != "2026-11-24" {
		t.Fatalf("gpc.json: %d %s", status, body)
	}
}

func TestDisclaimers(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.PublicURL = "https://privacy.example.org"
	n := startNode(t, cfg)
	status, text, hdr := getWith(t, n.http.URL+"/privacy/disclaimers/interaction_data.txt", nil)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("text: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"Example Ltd collects data for improving the product", "It keeps 12 fields, for 120 days.",
		"client_ip cut to its network", "It is linked to you only by client_id.",
		"Everything it collects, and why: https://privacy.example.org/privacy#interaction_data"} {
		if !strings.Contains(text, want) {
			t.Errorf("the disclaimer does not say %q:\n%s", want, text)
		}
	}
	status, frag, hdr := getWith(t, n.http.URL+"/privacy/disclaimers/request_log.html", map[string]string{"Accept-Language": "de"})
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		!strings.Contains(frag, `<a href="https://privacy.example.org/privacy?lang=de#request_log">Alles, was erhoben wird, und warum</a>`) ||
		!strings.Contains(frag, `lang="de"`) || strings.Contains(frag, "<script") {
		t.Fatalf("html: %d %s", status, frag)
	}
	for _, bad := range []string{"nope.txt", "interaction_data.pdf", "interaction_data"} {
		status, body, hdr := getWith(t, n.http.URL+"/privacy/disclaimers/"+bad, nil)
		if status != http.StatusNotFound || hdr.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, "DATASET.txt") {
			t.Errorf("%s: %d %s", bad, status, body)
		}
	}
}

// TestRecordsEndpoint: GET /v1/records for the roles that answer for the
// processing, in JSON, CSV and Markdown; a bad format or language is a
// 400 that says what to ask for.
func TestRecordsEndpoint(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	tok := token(t, n, auth.Auditor)
	get := func(query string) (int, string, http.Header) {
		return getWith(t, n.http.URL+"/v1/records"+query, map[string]string{"Authorization": "Bearer " + tok})
	}
	status, body, _ := get("")
	var recs notice.Records
	if status != http.StatusOK || json.Unmarshal([]byte(body), &recs) != nil || len(recs.Activities) != 4 || recs.Controller.Name != "Example Ltd" {
		t.Fatalf("json: %d %s", status, body)
	}
	status, body, hdr := get("?format=csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || len(rows) != 1+4+len(recs.Measures) {
		t.Fatalf("csv: %d %v %d rows", status, err, len(rows))
	}
	status, body, _ = get("?format=md&lang=de")
	if status != http.StatusOK || !strings.Contains(body, "# Verzeichnis von Verarbeitungstätigkeiten") {
		t.Fatalf("md: %d %.200s", status, body)
	}
	for q, want := range map[string]string{"?format=xml": "format must be json, csv or md", "?lang=xx": "use one of en, de"} {
		status, body, hdr := get(q)
		if status != http.StatusBadRequest || hdr.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
}

// TestPublicPagesLinkToTheNotice: the request form and a request's status
// page link to the notice.
func TestPublicPagesLinkToTheNotice(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	sub, err := n.srv.Rights.Submit(context.Background(), rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "carol@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sub.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/privacy/requests/new", u.RequestURI()} {
		status, body, _ := getWith(t, n.http.URL+path, nil)
		if status != http.StatusOK || !strings.Contains(body, `<a href="/privacy">Privacy notice</a>`) {
			t.Errorf("%s: %d, no link to the notice", path, status)
		}
	}
}

// TestRecordsScreen: an auditor reads the records in the portal and
// downloads them; a bad format is a readable 400 page.
func TestRecordsScreen(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	tab := signIn(t, n, auth.Auditor)
	status, body, _ := tab.get("/admin/records")
	if status != http.StatusOK || !strings.Contains(body, `<a href="/admin/records" aria-current="page">Records</a>`) ||
		!strings.Contains(body, `<h2 id="interaction_data">interaction_data</h2>`) || !strings.Contains(body, "Art. 30(1)(g)") {
		t.Fatalf("records screen: %d\n%s", status, body)
	}
	inShell(t, "/admin/records", body)
	status, body, hdr := tab.get("/admin/records?format=csv&lang=de")
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment") || !strings.Contains(body, "berechtigte Interessen (Art. 6 Abs. 1 lit. f DSGVO)") {
		t.Fatalf("csv download: %d %s %.200s", status, hdr.Get("Content-Disposition"), body)
	}
	for _, q := range []string{"?format=xml", "?lang=fr"} {
		if status, body, _ := tab.get("/admin/records" + q); status != http.StatusBadRequest || !strings.Contains(body, "Records of processing") {
			t.Errorf("%s: %d", q, status)
		}
	}
}
