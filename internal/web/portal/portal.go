// Package portal is the staff side of data subject requests: a list with
// filters, search, pagination and due dates, and a page per request with
// its history, its execution steps and the actions support may take.
// Server-rendered, usable without JavaScript; every view of personal data
// is recorded in the access log.
package portal

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
)

//go:embed templates/*.html
var files embed.FS

var pages = map[string]*template.Template{}

func init() {
	funcs := template.FuncMap{"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}}
	for _, p := range []string{"list", "detail"} {
		pages[p] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+p+".html"))
	}
}

// Portal serves /admin/requests.
type Portal struct {
	Rights *rights.Service
	Access accesslog.Recorder
	IPs    clientip.Resolver
	Log    *slog.Logger
}

// PageSize is how many requests one list page shows.
const PageSize = 25

// DueSoon highlights requests due within this time.
const DueSoon = 7 * 24 * time.Hour

type row struct {
	R     store.Request
	Class string
}

type view struct {
	Title, Error, Notice, Who, Role, CSRF string
	// list
	Filter                    store.RequestFilter
	From, To                  string
	Statuses, Types, Channels []string
	Rows                      []row
	Total, Page, Pages        int
	Prev, Next                string
	// detail
	R                     store.Request
	History               []store.RequestEvent
	Steps                 []store.RequestStep
	Open, Failed, Started bool
	DueClass              string
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	who, _ := auth.FromContext(r.Context())
	v.Who, v.Role = who.Name, string(who.Role)
	// Pages run behind auth.Sessions.RequirePage, which also checks this
	// token on every POST.
	if ss, ok := auth.SessionFromContext(r.Context()); ok {
		v.CSRF = auth.CSRFToken(ss)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages[page].ExecuteTemplate(w, page+".html", v); err != nil {
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

// List handles GET /admin/requests.
func (p *Portal) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := view{Title: "Data subject requests", From: q.Get("from"), To: q.Get("to"),
		Statuses: []string{string(rights.WaitingForEmail), string(rights.Received), string(rights.InProgress), string(rights.WaitingForUser), string(rights.Done), string(rights.Rejected)},
		Types:    []string{rights.Erasure, rights.Access}, Channels: []string{rights.ChannelWeb, rights.ChannelApp, rights.ChannelFacebook}}
	f := store.RequestFilter{Status: q.Get("status"), Type: q.Get("type"), Channel: q.Get("channel"), Search: strings.TrimSpace(q.Get("q")), Limit: PageSize}
	v.Filter = f
	var problems []string
	if f.Status != "" && !slices.Contains(v.Statuses, f.Status) {
		problems = append(problems, "unknown status")
	}
	if f.Type != "" && !slices.Contains(v.Types, f.Type) {
		problems = append(problems, "unknown type")
	}
	if f.Channel != "" && !slices.Contains(v.Channels, f.Channel) {
		problems = append(problems, "unknown channel")
	}
	var err error
	if f.From, err = day(v.From); err != nil {
		problems = append(problems, "“received from” is not a date like 2026-11-22")
	}
	if f.To, err = day(v.To); err != nil {
		problems = append(problems, "“received before” is not a date like 2026-11-22")
	}
	page, err := strconv.Atoi(q.Get("page"))
	if q.Get("page") == "" {
		page, err = 1, nil
	}
	if err != nil || page < 1 || page > 100000 {
		problems = append(problems, "page must be a whole number from 1")
		page = 1
	}
	if len(f.Search) > 254 {
		problems = append(problems, "search is too long")
	}
	if len(problems) > 0 {
		v.Error = "Please fix the filter: " + strings.Join(problems, "; ") + "."
		p.render(w, r, http.StatusBadRequest, "list", v)
		return
	}
	f.Offset = (page - 1) * PageSize
	reqs, total, err := p.Rights.List(r.Context(), f)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	if !p.record(w, r, "list", reqs, "requests list "+q.Encode()) {
		return
	}
	v.Total, v.Page, v.Pages = total, page, max(1, (total+PageSize-1)/PageSize)
	for _, rq := range reqs {
		v.Rows = append(v.Rows, row{R: rq, Class: p.dueClass(rq)})
	}
	link := func(n int) string {
		q2 := url.Values{}
		for k, vs := range q {
			q2[k] = vs
		}
		q2.Set("page", strconv.Itoa(n))
		return "/admin/requests?" + q2.Encode()
	}
	if page > 1 {
		v.Prev = link(page - 1)
	}
	if page < v.Pages {
		v.Next = link(page + 1)
	}
	p.render(w, r, http.StatusOK, "list", v)
}

// Detail handles GET /admin/requests/{id}.
func (p *Portal) Detail(w http.ResponseWriter, r *http.Request) {
	p.detail(w, r, http.StatusOK, "", r.URL.Query().Get("notice"))
}

func (p *Portal) detail(w http.ResponseWriter, r *http.Request, status int, errText, notice string) {
	d, err := p.Rights.Detail(r.Context(), r.PathValue("id"))
	req, hist, steps := d.Request, d.History, d.Steps
	if errors.Is(err, rights.ErrNotFound) {
		p.render(w, r, http.StatusNotFound, "list", view{Title: "No such request", Error: "There is no request with that id."})
		return
	}
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	if !p.record(w, r, "view", []store.Request{req}, "request "+req.ID) {
		return
	}
	v := view{Title: "Request " + req.ID, R: req, History: hist, Open: rights.Status(req.Status).Open(), DueClass: p.dueClass(req),
		Error: errText, Notice: noticeText[notice]}
	for _, st := range steps {
		if st.Connector == "*" {
			v.Started = true
			continue
		}
		v.Steps = append(v.Steps, st)
		if st.Status == rights.StepFailed {
			v.Failed = true
		}
	}
	p.render(w, r, status, "detail", v)
}

var noticeText = map[string]string{
	"take": "You took the request.", "ask": "The question was sent.", "execute": "Execution ran; see the steps below.",
	"reject": "The request was rejected and the person told why.", "extend": "The deadline was extended and the person told why.",
}

// Act handles POST /admin/requests/{id}/{action}.
func (p *Portal) Act(w http.ResponseWriter, r *http.Request) {
	// RequirePage has parsed the form and checked its CSRF token.
	id, action := r.PathValue("id"), r.PathValue("action")
	who, _ := auth.FromContext(r.Context())
	actor := who.Name
	cur, err := p.Rights.Request(r.Context(), id)
	if err != nil {
		p.detail(w, r, http.StatusNotFound, "", "")
		return
	}
	if v := r.PostFormValue("version"); v != strconv.FormatInt(cur.Version, 10) {
		p.detail(w, r, http.StatusConflict, "Someone changed this request since you opened it; nothing was done. Check the page and try again.", "")
		return
	}
	switch action {
	case "take":
		_, err = p.Rights.Take(r.Context(), id, actor)
	case "ask":
		_, err = p.Rights.AskUser(r.Context(), id, actor, r.PostFormValue("question"))
	case "execute":
		_, err = p.Rights.Execute(r.Context(), id, actor)
	case "reject":
		_, err = p.Rights.RejectRequest(r.Context(), id, actor, r.PostFormValue("reason"))
	case "extend":
		_, err = p.Rights.Extend(r.Context(), id, actor, r.PostFormValue("reason"))
	default:
		p.detail(w, r, http.StatusNotFound, "Unknown action.", "")
		return
	}
	var se *rights.StepError
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/requests/"+id+"?notice="+action, http.StatusSeeOther)
	case errors.As(err, &se):
		p.detail(w, r, http.StatusOK, "A step failed: "+se.Error()+". Finished steps are kept; “Retry” runs only what is left.", "")
	case errors.Is(err, rights.ErrBadIntake), errors.Is(err, rights.ErrNotReady), errors.Is(err, rights.ErrChanged):
		p.detail(w, r, http.StatusConflict, err.Error(), "")
	default:
		p.Log.Error("portal: action failed", "action", action, "request", id, "err", err)
		p.detail(w, r, http.StatusServiceUnavailable, "The action could not be completed just now; nothing was lost. Try again in a minute.", "")
	}
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
	p.render(w, r, http.StatusServiceUnavailable, "list", view{Title: "Please try again", Error: "Storage is unavailable just now; nothing was lost."})
}

func day(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}
