package portal

import (
	"errors"
	"net/http"

	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// Detail handles GET /admin/requests/{id}.
func (p *Portal) Detail(w http.ResponseWriter, r *http.Request) {
	p.detail(w, r, http.StatusOK, "", r.URL.Query().Get("notice"), typed{})
}

// typed is what was written into an action's form, shown again when the
// action is refused.
type typed struct{ Ask, Reject, Extend string }

func (p *Portal) detail(w http.ResponseWriter, r *http.Request, status int, errText, notice string, t typed) {
	d, err := p.Rights.Detail(r.Context(), r.PathValue("id"))
	req, hist, steps := d.Request, d.History, d.Steps
	if errors.Is(err, rights.ErrNotFound) {
		ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No such request", Text: "There is no request with that id.",
			Next: ui.Link{Label: "All requests", Path: "/admin/requests"}})
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
		Error: errText, Notice: noticeText[notice], Typed: t}
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
