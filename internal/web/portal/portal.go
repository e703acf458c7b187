// Package portal is steward's staff pages: data subject requests (a list
// with counts, filters, search, pagination and due dates; a page per
// request with its history, its execution steps and the actions support
// may take; their trends in charts) and the collection volume per dataset
// and day. One file per screen. Server-rendered, usable without
// JavaScript, charts drawn on the server; every view of personal data is
// recorded in the access log.
package portal

import (
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

//go:embed templates/*.html
var files embed.FS

var pages = ui.MustParse(files, "templates/*.html")

// Portal serves /admin/requests.
type Portal struct {
	Rights *rights.Service
	Access accesslog.Recorder
	IPs    clientip.Resolver
	Log    *slog.Logger
	// Volume and Registry feed the collection page.
	Volume   Volume
	Registry *registry.Source
	// LocalMailbox: no SMTP server is configured, so messages to people
	// wait in the local mailbox and the portal must not say they were sent.
	LocalMailbox bool
}

// PageSize is how many requests one list page shows.
const PageSize = 25

// DueSoon highlights requests due within this time.
const DueSoon = 7 * 24 * time.Hour

type row struct {
	R     store.Request
	Class string
	// Status, Type and Channel in words.
	Status, Type, Channel string
}

type view struct {
	Title, Error, Notice, CSRF string
	// list
	Filter                          store.RequestFilter
	From, To, Due                   string
	Statuses, Types, Channels, Dues []choice
	Tallies                         []tally
	Filtered                        bool
	Rows                            []row
	Total, Page, Pages              int
	First, Prev, Next, Last         string
	// detail
	R                     store.Request
	Status, Kind, Law     string
	History               []event
	Steps                 []step
	Open, Failed, Started bool
	DueClass              string
	Offer                 rights.Offer
	Typed                 typed
}

// event is a history entry with its statuses in words.
type event struct {
	store.RequestEvent
	FromLabel, ToLabel string
}

// step is an execution step with its system's label.
type step struct {
	store.RequestStep
	Label string
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	// Pages run behind auth.Sessions.RequirePage, which checks this token
	// on every POST.
	v.CSRF = ui.FormToken(r)
	if err := pages.Render(w, r, status, page, ui.Page{Title: v.Title, Error: v.Error, Notice: v.Notice, Wide: true, Data: v}); err != nil {
		p.Log.Error("portal: render failed", "page", page, "err", err)
	}
}

// renderPage draws a page whose content template reads data directly.
func (p *Portal) renderPage(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	if err := pages.Render(w, r, status, page, ui.Page{Title: title, Wide: true, Data: data}); err != nil {
		p.Log.Error("portal: render failed", "page", page, "err", err)
	}
}

func (p *Portal) dueClass(r store.Request) string {
	if !rights.Status(r.Status).Open() {
		return ""
	}
	now := p.Rights.Clock.Now()
	switch {
	case now.After(r.DueAt):
		return "overdue"
	case r.DueAt.Sub(now) < DueSoon:
		return "due-soon"
	}
	return ""
}

// record puts a view of requesters' personal data in the access log; no
// page shows it unless that succeeded.
func (p *Portal) record(w http.ResponseWriter, r *http.Request, kind string, reqs []store.Request, query string) bool {
	who, _ := auth.FromContext(r.Context())
	e := accesslog.ForRequest(r, who, p.IPs, p.Rights.Clock.Now())
	e.Purpose, e.Dataset, e.Query = "data_subject_request", "@requests", "portal "+kind+": "+query
	e.Records, e.Decision, e.Reason = int64(len(reqs)), accesslog.Allowed, "support working data subject requests"
	for _, rq := range reqs {
		e.SubjectKeys = append(e.SubjectKeys, rq.SubjectKey)
	}
	if err := p.Access.Append(r.Context(), e); err != nil {
		p.unavailable(w, r, err)
		return false
	}
	return true
}

func (p *Portal) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	p.Log.Error("portal: failed", "err", err)
	w.Header().Set("Retry-After", "30")
	ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Title: "Please try again", Text: "Storage is unavailable just now; nothing was lost."})
}
