package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// choice is one option of a filter, with the words staff read.
type choice struct{ Value, Label string }

// tally is one count at the top of the list, linking to its requests.
type tally struct {
	Label, Link, Class string
	N                  int
	Current            bool
}

// Deadline filters.
const (
	dueOverdue = "overdue"
	dueSoon    = "soon"
)

var (
	types    = []choice{{rights.Erasure, "Erasure"}, {rights.Access, "Access"}}
	channels = []choice{{rights.ChannelWeb, "Web form"}, {rights.ChannelApp, "App"}, {rights.ChannelFacebook, "Facebook"}}
	dues     = []choice{{dueOverdue, "Overdue"}, {dueSoon, "Due within 7 days"}}
)

func statuses() (out []choice) {
	for _, s := range rights.Statuses() {
		out = append(out, choice{string(s), s.Label()})
	}
	return out
}

func valid(cs []choice, v string) bool {
	return v == "" || slices.ContainsFunc(cs, func(c choice) bool { return c.Value == v })
}

func label(cs []choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

// List handles GET /admin/requests.
func (p *Portal) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := view{Title: "Data subject requests", From: q.Get("from"), To: q.Get("to"), Due: q.Get("due"),
		Statuses: statuses(), Types: types, Channels: channels, Dues: dues}
	f := store.RequestFilter{Status: q.Get("status"), Type: q.Get("type"), Channel: q.Get("channel"), Search: strings.TrimSpace(q.Get("q")), Limit: PageSize}
	v.Filter = f
	var problems []string
	if !valid(v.Statuses, f.Status) {
		problems = append(problems, "unknown status")
	}
	if !valid(types, f.Type) {
		problems = append(problems, "unknown type")
	}
	if !valid(channels, f.Channel) {
		problems = append(problems, "unknown channel")
	}
	if !valid(dues, v.Due) {
		problems = append(problems, "unknown deadline filter")
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
	if !ui.IsText(f.Search) {
		// The search reaches the database, and the page shows it again.
		problems = append(problems, "the search "+strings.TrimSuffix(ui.NotText, "."))
		v.Filter.Search = ui.ValidText(f.Search)
	}
	if len(problems) > 0 {
		v.Error = "Please fix the filter: " + strings.Join(problems, "; ") + "."
		p.render(w, r, http.StatusBadRequest, "list", v)
		return
	}
	now := p.Rights.Clock.Now().UTC()
	switch v.Due {
	case dueOverdue:
		f.AnyStatus, f.DueBefore = rights.OpenStatuses(), now
	case dueSoon:
		f.AnyStatus, f.DueFrom, f.DueBefore = rights.OpenStatuses(), now, now.Add(DueSoon)
	}
	f.Offset = (page - 1) * PageSize
	counts, err := p.Rights.Counts(r.Context(), DueSoon)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	reqs, total, err := p.Rights.List(r.Context(), f)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	if !p.record(w, r, "list", reqs, "requests list "+q.Encode()) {
		return
	}
	v.Tallies = tallies(counts, v.Filter.Status, v.Due)
	v.Filtered = f.Status != "" || f.Type != "" || f.Channel != "" || f.Search != "" || v.Due != "" || v.From != "" || v.To != ""
	v.Total, v.Page, v.Pages = total, page, max(1, (total+PageSize-1)/PageSize)
	for _, rq := range reqs {
		v.Rows = append(v.Rows, row{R: rq, Class: p.dueClass(rq), Status: rights.Status(rq.Status).Label(),
			Type: label(types, rq.Type), Channel: label(channels, rq.Channel)})
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
		v.First, v.Prev = link(1), link(page-1)
	}
	if page < v.Pages {
		v.Next, v.Last = link(page+1), link(v.Pages)
	}
	p.render(w, r, http.StatusOK, "list", v)
}

// tallies are the counts at the top of the list: the open statuses, the
// deadlines, the closed statuses and all, each a link to its requests.
func tallies(c store.RequestCounts, status, due string) []tally {
	var out []tally
	total := 0
	for _, s := range rights.Statuses() {
		total += c.ByStatus[string(s)]
	}
	add := func(label, link, class string, n int, current bool) {
		out = append(out, tally{Label: label, Link: link, Class: class, N: n, Current: current})
	}
	add("All", "/admin/requests", "", total, status == "" && due == "")
	for _, s := range rights.Statuses() {
		if s.Open() {
			add(s.Label(), "/admin/requests?status="+string(s), "", c.ByStatus[string(s)], status == string(s) && due == "")
		}
	}
	add("Overdue", "/admin/requests?due="+dueOverdue, "overdue", c.Overdue, due == dueOverdue && status == "")
	add("Due within 7 days", "/admin/requests?due="+dueSoon, "due-soon", c.DueSoon, due == dueSoon && status == "")
	for _, s := range rights.Statuses() {
		if !s.Open() {
			add(s.Label(), "/admin/requests?status="+string(s), "", c.ByStatus[string(s)], status == string(s) && due == "")
		}
	}
	return out
}

func day(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}
