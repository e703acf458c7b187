// Package ui is the shell every steward page is drawn in: one layout (head,
// stylesheet, header with the navigation, main, footer), the navigation by
// role, the error page, the date format and the guard against cross-origin
// form posts. Packages that serve pages (internal/signin,
// internal/web/subject, internal/web/portal) keep only their own content
// templates; everything around the content comes from here, so the pages
// look and behave alike.
//
// Pages load nothing from another host and no script at all: the one
// stylesheet is /static/steward.css (internal/web/static).
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
)

//go:embed templates/*.html
var files embed.FS

// CSRFField is the one hidden field that carries the session's form token
// on every form of a signed-in page (auth.RequirePage checks it). Pages
// write it with {{template "csrf" .CSRF}}.
const CSRFField = auth.CSRFField

// funcs are the helpers every page template may call. date marks the
// moment up as <time>, which the stylesheet keeps on one line in tables;
// day is the same with the day alone, for tables of many rows, and shows
// the whole moment on hover.
var funcs = template.FuncMap{
	"date": func(t time.Time) template.HTML {
		if t.IsZero() {
			return template.HTML(Date(t))
		}
		// The day and the time are each kept whole, so a narrow table
		// may put them on two lines but never breaks either.
		return timeTag(t, `<span>`+Day(t)+`,</span> <span>`+t.UTC().Format("15:04 UTC")+`</span>`, "")
	},
	"day": func(t time.Time) template.HTML {
		if t.IsZero() {
			return template.HTML(Day(t))
		}
		return timeTag(t, Day(t), Date(t))
	},
}

func timeTag(t time.Time, text, title string) template.HTML {
	if title != "" {
		title = ` title="` + title + `"`
	}
	// Every string here is a formatted time: nothing needs escaping.
	return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `"` + title + `>` + text + `</time>`)
}

// Day is the day of t as the tables show it: "22 Nov 2026" (UTC).
func Day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006")
}

// base is the layout and its partials; every page set clones it.
var base = func() *template.Template {
	t := template.Must(template.New("layout").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/figure.html"))
	// Written in Go so the field's name has one source, CSRFField.
	template.Must(t.New("csrf").Parse(`<input type="hidden" name="` + CSRFField + `" value="{{.}}">`))
	return t
}()

// Date is how every page shows a moment: UTC, unambiguous in any locale
// and short enough for a table cell. The zero time reads as a dash.
func Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// Page is what the layout shows around a page's own content.
type Page struct {
	Title string
	// Error and Notice are shown above the content, as an alert and as a
	// status line.
	Error, Notice string
	// Site is whose pages these are, named in the header and the title:
	// the controller on the public pages for data subjects. Empty means
	// steward's own staff pages.
	Site string
	// Wide gives a page of wide tables (the portal) more room than the
	// reading width the forms and texts keep.
	Wide bool
	// Lang is the page's language (its lang attribute); "" is English.
	Lang string
	// Footer replaces a public page's footer (a page in another
	// language); nil is the default line with links to the privacy
	// notice and the request form.
	Footer *Footer
	// Data is the dot of the page's "content" template.
	Data any
}

// Footer is what a public page's footer says.
type Footer struct {
	Text  string
	Links []Link
}

// Link is one rendered navigation entry.
type Link struct {
	Label, Path string
	// Current marks the entry of the page being shown.
	Current bool
}

// frame is what the layout template reads.
type frame struct {
	Page
	Brand  string
	Public bool
	// Who, Role, Nav and CSRF are empty unless a staff session is signed in.
	Who, Role, CSRF string
	Nav             []Link
}

func newFrame(r *http.Request, p Page) frame {
	f := frame{Page: p, Brand: p.Site, Public: p.Site != ""}
	if f.Brand == "" {
		f.Brand = "steward"
	}
	if f.Lang == "" {
		f.Lang = "en"
	}
	if f.Public && f.Footer == nil {
		f.Footer = &Footer{Text: "Requests about your personal data held by " + f.Brand,
			Links: []Link{{Label: "Privacy notice", Path: NoticePath}, {Label: "Make a request", Path: RequestPath}}}
	}
	// The public pages never show staff navigation, even to a browser
	// that happens to hold a session.
	if ss, ok := auth.SessionFromContext(r.Context()); ok && !f.Public {
		f.Who, f.Role, f.CSRF = ss.Name, ss.Role, auth.CSRFToken(ss)
		f.Nav = Navigation(auth.Role(ss.Role), r.URL.Path)
	}
	return f
}

// FormToken is the token a signed-in page's forms carry in CSRFField; it
// is empty on pages without a session.
func FormToken(r *http.Request) string {
	if ss, ok := auth.SessionFromContext(r.Context()); ok {
		return auth.CSRFToken(ss)
	}
	return ""
}

// Templates is one package's pages, each parsed together with the layout.
type Templates struct {
	pages map[string]*template.Template
}

// MustParse reads every file of fsys matching pattern as a page named by
// its base name without ".html"; each must define a "content" template.
// It panics on a broken template, so a package fails at start, not when a
// person opens the page.
func MustParse(fsys fs.FS, pattern string) *Templates {
	names, err := fs.Glob(fsys, pattern)
	if err != nil || len(names) == 0 {
		panic(fmt.Sprintf("ui: no page templates match %q (%v)", pattern, err))
	}
	ts := &Templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		t := template.Must(template.Must(base.Clone()).ParseFS(fsys, n))
		if t.Lookup("content") == nil {
			panic("ui: " + n + " defines no \"content\" template")
		}
		ts.pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return ts
}

// NoticePath and RequestPath are the public privacy notice and request
// form every public page links to.
const (
	NoticePath  = "/privacy"
	RequestPath = "/privacy/requests/new"
)

// Bytes renders page name inside the layout into memory, for a page its
// caller keeps and sends again (the public notice, rendered once per
// version and language). Write sends it.
func (ts *Templates) Bytes(r *http.Request, name string, p Page) ([]byte, error) {
	t := ts.pages[name]
	if t == nil {
		return nil, fmt.Errorf("ui: no page %q", name)
	}
	b, err := execute(t, r, p)
	if err != nil {
		return nil, fmt.Errorf("ui: page %s: %w", name, err)
	}
	return b, nil
}

// Write sends a page Bytes rendered, with the headers Render sets.
func Write(w http.ResponseWriter, status int, body []byte) { write(w, status, body) }

// InternalError is the 500 page, for a caller of Bytes whose page failed.
func InternalError(w http.ResponseWriter, r *http.Request, site string) { internalError(w, r, site) }

// Render writes page name inside the layout with status. The page is
// rendered to memory first, so a template failure becomes the 500 error
// page instead of half a page; the error is returned for the caller's log.
func (ts *Templates) Render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) error {
	t := ts.pages[name]
	if t == nil {
		internalError(w, r, p.Site)
		return fmt.Errorf("ui: no page %q", name)
	}
	b, err := execute(t, r, p)
	if err != nil {
		internalError(w, r, p.Site)
		return fmt.Errorf("ui: page %s: %w", name, err)
	}
	write(w, status, b)
	return nil
}

func execute(t *template.Template, r *http.Request, p Page) ([]byte, error) {
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "layout", newFrame(r, p))
	return buf.Bytes(), err
}

func write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show personal data and per-session tokens: no cache keeps them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
