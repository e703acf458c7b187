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

func day(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}
