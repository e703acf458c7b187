// Package notice serves steward's transparency over HTTP: the public
// privacy notice (/privacy, /privacy.json), its history, the short
// disclaimer per dataset for products to embed, Global Privacy Control's
// /.well-known/gpc.json and the records of processing for staff
// (GET /v1/records). Everything comes from internal/notice; this package
// only lays it out.
//
// The notice pages are public, load nothing from another host and no
// script, and are rendered once per notice version and language: after
// the first request they are served from memory.
package notice

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/web/ui"
)

//go:embed templates/*.html
var files embed.FS

var pages = ui.MustParse(files, "templates/*.html")

// fragments are pieces of HTML for other sites to include, outside
// steward's layout.
//
//go:embed fragments/*.html
var fragmentFiles embed.FS

var fragments = template.Must(template.ParseFS(fragmentFiles, "fragments/*.html"))

// Pages serves the notice.
type Pages struct {
	Service   *notice.Service
	Languages *notice.Languages
	// PublicURL is how people reach steward: the disclaimers link to the
	// notice with it.
	PublicURL string
	Clock     func() time.Time
	Log       *slog.Logger

	mu    sync.Mutex
	cache map[pageKey][]byte
}

// pageKey names one rendering: the page, the notice version it shows, the
// newest version (which an older version's page names) and the language.
type pageKey struct {
	page            string
	version, latest int
	lang            string
}

// view is the dot of every notice template. The sentences of the
// datasets' sections are made in Go (words.go); the rest of the page
// calls the Messages' methods.
type view struct {
	M         *notice.Messages
	N         *notice.Notice
	Old       bool
	OldLine   string
	HasServer bool
	// VersionLine says which version this is and since when.
	VersionLine string
	LangParam   string
	Languages   []langLink
	NoticeURL   string
	// Items are the history's versions, newest first.
	Items []historyItem
	// Datasets are the notice's datasets in words; S the headings each
	// of their sections repeats, TableHead the stored-data table's head
	// and Logged the access log sentence.
	Datasets  []datasetView
	S         sectionWords
	TableHead template.HTML
	Logged    string
}

type sectionWords struct {
	Received, Stored, Computed, Readers, Others, Nobody, Choices, Request string
	Questions, Can, Cannot, Disclaimer, Context, Text, AsText, AsHTML     string
}

type historyItem struct {
	Number       int
	Title, Since string
	Link         string
	Changes      []string
}

type langLink struct {
	Lang, Name, Path string
}

// InForce serves GET /privacy: the notice in force.
func (p *Pages) InForce(w http.ResponseWriter, r *http.Request) {
	h, ok := p.history(w, r)
	if !ok {
		return
	}
	v := h[len(h)-1]
	p.page(w, r, "notice", v, len(h), h, "/privacy")
}

// Version serves GET /privacy/history/{n}: an earlier version, as it read.
func (p *Pages) Version(w http.ResponseWriter, r *http.Request) {
	h, ok := p.history(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(h) {
		ui.Error(w, r, http.StatusNotFound, ui.Problem{Site: p.site(h), Title: "No such version",
			Text: fmt.Sprintf("The privacy notice has versions 1 to %d.", len(h)),
			Next: ui.Link{Label: "The notice in force", Path: ui.NoticePath}})
		return
	}
	if n == len(h) {
		http.Redirect(w, r, "/privacy"+langQuery(r), http.StatusSeeOther)
		return
	}
	p.page(w, r, "notice", h[n-1], len(h), h, "/privacy/history/"+strconv.Itoa(n))
}

// History serves GET /privacy/history: every version and what changed.
func (p *Pages) History(w http.ResponseWriter, r *http.Request) {
	h, ok := p.history(w, r)
	if !ok {
		return
	}
	p.page(w, r, "history", h[len(h)-1], len(h), h, "/privacy/history")
}

func (p *Pages) history(w http.ResponseWriter, r *http.Request) ([]notice.Version, bool) {
	h, err := p.Service.History(r.Context())
	if err != nil {
		p.Log.Error("privacy notice: cannot build it", "err", err)
		ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Site: "steward", Title: "The privacy notice is unavailable",
			Text: "steward could not read its registry to build the notice. Please try again in a minute."})
		return nil, false
	}
	return h, true
}

func (p *Pages) site(h []notice.Version) string {
	if name := h[len(h)-1].Notice.Controller.Name; name != "" {
		return name
	}
	return "steward"
}

// page renders (or takes from memory) one notice page.
func (p *Pages) page(w http.ResponseWriter, r *http.Request, name string, v notice.Version, latest int, h []notice.Version, path string) {
	m := p.Languages.Match(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	w.Header().Set("Content-Language", m.Lang())
	w.Header().Add("Vary", "Accept-Language")
	key := pageKey{page: name, version: v.Number, latest: latest, lang: m.Lang()}
	p.mu.Lock()
	b := p.cache[key]
	p.mu.Unlock()
	if b == nil {
		var err error
		if b, err = p.render(r, name, v, latest, h, path, m); err != nil {
			p.Log.Error("privacy notice: render failed", "page", name, "err", err)
			ui.InternalError(w, r, p.site(h))
			return
		}
		p.mu.Lock()
		if p.cache == nil {
			p.cache = map[pageKey][]byte{}
		}
		p.cache[key] = b
		p.mu.Unlock()
	}
	ui.Write(w, http.StatusOK, b)
}

func (p *Pages) render(r *http.Request, name string, v notice.Version, latest int, h []notice.Version, path string, m *notice.Messages) ([]byte, error) {
	site := p.site(h)
	vw := view{M: m, N: v.Notice, Old: v.Number < latest, NoticeURL: p.noticeURL(), LangParam: langParam(m),
		VersionLine: versionLine(m, v)}
	for _, d := range v.Notice.Datasets {
		vw.HasServer = vw.HasServer || d.From == notice.FromServer
	}
	if name == "notice" {
		labels := tableLabels{Field: m.T("table.field"), What: m.T("table.what"), Stored: m.T("table.stored"),
			Category: m.T("table.category"), Kept: m.T("table.kept")}
		vw.Datasets = datasetWords(m, v.Notice, vw.NoticeURL, labels)
		vw.Logged = m.T("readers.logged", "roles", m.Roles(v.Notice.AccessLogReaders))
		vw.S = sectionWords{Received: m.T("ds.received"), Stored: m.T("ds.stored"), Computed: m.T("ds.computed"),
			Readers: m.T("ds.readers"), Others: m.T("readers.others"), Nobody: m.T("readers.none"), Choices: m.T("ds.choices"),
			Request: m.T("requests.link"), Questions: m.T("ds.questions"), Can: m.T("ds.can"), Cannot: m.T("ds.cannot"),
			Disclaimer: m.T("ds.disclaimer"), Context: m.T("disclaimer.context"), Text: m.T("disclaimer.text"),
			AsText: m.T("disclaimer.as_text"), AsHTML: m.T("disclaimer.as_html")}
		vw.TableHead = tableHead(labels)
	}
	title := m.T("page.title")
	switch {
	case name == "history":
		title = m.T("history.title")
		for i := len(h) - 1; i >= 0; i-- {
			x := h[i]
			item := historyItem{Number: x.Number, Title: m.T("history.version", "n", strconv.Itoa(x.Number)), Since: versionSince(m, x)}
			if x.Number < latest {
				item.Link = "/privacy/history/" + strconv.Itoa(x.Number) + langParam(m)
			} else {
				item.Since += " " + m.T("history.current")
			}
			for _, c := range x.Changes {
				item.Changes = append(item.Changes, m.Change(c))
			}
			vw.Items = append(vw.Items, item)
		}
	case vw.Old:
		title = m.T("version.title", "n", strconv.Itoa(v.Number))
		vw.OldLine = m.T("version.old", "n", strconv.Itoa(v.Number), "current", strconv.Itoa(latest))
	}
	for _, l := range p.Languages.All() {
		if l != m {
			vw.Languages = append(vw.Languages, langLink{Lang: l.Lang(), Name: l.T("lang.name"), Path: path + "?lang=" + url.QueryEscape(l.Lang())})
		}
	}
	return pages.Bytes(r, name, ui.Page{Title: title, Site: site, Lang: m.Lang(), Data: vw,
		Footer: &ui.Footer{Text: m.T("footer.text", "controller", site), Links: []ui.Link{
			{Label: m.T("footer.notice"), Path: "/privacy" + langParam(m)},
			{Label: m.T("footer.request"), Path: ui.RequestPath}}}})
}

func versionLine(m *notice.Messages, v notice.Version) string {
	if v.Since.IsZero() {
		return m.T("page.version.undated", "n", strconv.Itoa(v.Number))
	}
	return m.T("page.version", "n", strconv.Itoa(v.Number), "date", m.Date(v.Since))
}

func versionSince(m *notice.Messages, v notice.Version) string {
	if v.Since.IsZero() {
		return ""
	}
	return m.T("history.since", "date", m.Date(v.Since))
}

func langParam(m *notice.Messages) string {
	if m.Lang() == "en" {
		return ""
	}
	return "?lang=" + url.QueryEscape(m.Lang())
}

func langQuery(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l != "" {
		return "?lang=" + url.QueryEscape(l)
	}
	return ""
}

func (p *Pages) noticeURL() string { return strings.TrimSuffix(p.PublicURL, "/") + ui.NoticePath }

// published is /privacy.json: the notice in force with its version.
type published struct {
	Version         int            `json:"version"`
	InForceSince    *time.Time     `json:"in_force_since,omitempty"`
	RegistryVersion int64          `json:"registry_version"`
	URL             string         `json:"url"`
	History         string         `json:"history"`
	Notice          *notice.Notice `json:"notice"`
}

// JSON serves GET /privacy.json.
func (p *Pages) JSON(w http.ResponseWriter, r *http.Request) {
	v, err := p.Service.Current(r.Context())
	if err != nil {
		p.Log.Error("privacy notice: cannot build it", "err", err)
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "the privacy notice cannot be built now; retry later")
		return
	}
	out := published{Version: v.Number, RegistryVersion: v.Registry, URL: p.noticeURL(),
		History: strings.TrimSuffix(p.PublicURL, "/") + "/privacy/history", Notice: v.Notice}
	if !v.Since.IsZero() {
		since := v.Since.UTC()
		out.InForceSince = &since
	}
	writeJSON(w, out)
}

// Disclaimer serves GET /privacy/disclaimers/{file}: NAME.txt is the
// dataset's short text, NAME.html the same as an HTML fragment for a
// product to put where it collects the data.
func (p *Pages) Disclaimer(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ext, _ := strings.Cut(file, ".")
	v, err := p.Service.Current(r.Context())
	if err != nil {
		p.Log.Error("privacy notice: cannot build it", "err", err)
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "the privacy notice cannot be built now; retry later")
		return
	}
	var ds *notice.Dataset
	for i := range v.Notice.Datasets {
		if v.Notice.Datasets[i].Name == name {
			ds = &v.Notice.Datasets[i]
		}
	}
	if ds == nil || (ext != "txt" && ext != "html") {
		problem.New(w, http.StatusNotFound, "unknown-disclaimer",
			"ask for DATASET.txt or DATASET.html, where DATASET is declared in the registry (see /privacy.json)")
		return
	}
	m := p.Languages.Match(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	link := p.noticeURL() + langParam(m) + "#" + ds.Name
	h := w.Header()
	h.Set("Content-Language", m.Lang())
	h.Add("Vary", "Accept-Language")
	h.Set("Cache-Control", "public, max-age=300")
	if ext == "txt" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, m.Disclaimer(v.Notice, *ds, link))
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	if err := fragments.ExecuteTemplate(&b, "disclaimer.html", disclaimerView{Lang: m.Lang(), Name: ds.Name,
		Body: m.DisclaimerBody(v.Notice, *ds), Link: link, Label: m.T("disclaimer.link.label")}); err != nil {
		p.Log.Error("privacy notice: disclaimer failed", "err", err)
		problem.New(w, http.StatusInternalServerError, "internal", "the disclaimer could not be rendered; it has been logged")
		return
	}
	_, _ = w.Write([]byte(b.String()))
}

type disclaimerView struct {
	Lang, Name, Body, Link, Label string
}

// gpc is the Global Privacy Control support resource
// (https://privacycg.github.io/gpc-spec/#gpc-support-resource).
type gpc struct {
	GPC        bool   `json:"gpc"`
	LastUpdate string `json:"lastUpdate,omitempty"`
}

// GPC serves GET /.well-known/gpc.json when collection honours GPC (the
// server registers it only then): lastUpdate is the day the notice in
// force, which says so, took effect.
func (p *Pages) GPC(w http.ResponseWriter, r *http.Request) {
	out := gpc{GPC: true}
	if v, err := p.Service.Current(r.Context()); err == nil && !v.Since.IsZero() {
		out.LastUpdate = v.Since.UTC().Format(time.DateOnly)
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, out)
}

// Records serves GET /v1/records: the records of processing, as JSON
// (default), CSV or Markdown (?format=csv|md), in English or ?lang=.
func (p *Pages) Records(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = notice.FormatJSON
	}
	m := p.Languages.Get("en")
	if l := q.Get("lang"); l != "" {
		if m = p.Languages.Get(l); m == nil {
			problem.New(w, http.StatusBadRequest, "lang", fmt.Sprintf("no records in language %q; use one of %s", l, langList(p.Languages)))
			return
		}
	}
	types := map[string]string{notice.FormatJSON: "application/json", notice.FormatCSV: "text/csv; charset=utf-8",
		notice.FormatMarkdown: "text/markdown; charset=utf-8"}
	if types[format] == "" {
		problem.New(w, http.StatusBadRequest, "format", "format must be json, csv or md")
		return
	}
	recs, err := p.Service.Records(r.Context(), m, p.Clock())
	if err != nil {
		p.Log.Error("records of processing: cannot build them", "err", err)
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "the records cannot be built now; retry later")
		return
	}
	var b strings.Builder
	if err := recs.Write(&b, format); err != nil {
		p.Log.Error("records of processing: export failed", "err", err)
		problem.New(w, http.StatusInternalServerError, "internal", "the records could not be written; it has been logged")
		return
	}
	w.Header().Set("Content-Type", types[format])
	w.Header().Set("Cache-Control", "no-store")
	if format != notice.FormatJSON {
		w.Header().Set("Content-Disposition", `attachment; filename="records-of-processing.`+format+`"`)
	}
	_, _ = w.Write([]byte(b.String()))
}

func langList(ls *notice.Languages) string {
	var tags []string
	for _, m := range ls.All() {
		tags = append(tags, m.Lang())
	}
	return strings.Join(tags, ", ")
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		problem.New(w, http.StatusInternalServerError, "internal", "steward could not encode the answer")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}
