package portal

import (
	"errors"
	"net/http"
	"strings"

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
	req := d.Request
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
	law := strings.ToUpper(req.Law)
	v := view{Title: "Request " + req.ID, R: req, Status: rights.Status(req.Status).Label(), Open: rights.Status(req.Status).Open(),
		Kind: label(types, req.Type) + " · " + label(channels, req.Channel) + " · " + law, Law: law,
		DueClass: p.dueClass(req), Offer: rights.Offers(req), Error: errText, Notice: p.notice(notice), Typed: t}
	for _, h := range d.History {
		v.History = append(v.History, event{RequestEvent: h, FromLabel: rights.Status(h.From).Label(), ToLabel: rights.Status(h.To).Label()})
	}
	for _, st := range d.Steps {
		if st.Connector == "*" {
			v.Started = true
			continue
		}
		v.Steps = append(v.Steps, step{RequestStep: st, Label: p.Rights.Label(st.Connector)})
		if st.Status == rights.StepFailed {
			v.Failed = true
		}
	}
	p.render(w, r, status, "detail", v)
}

// notice is the words for an action just taken; with no mail server,
// what was "sent" to the person is in the local mailbox instead.
func (p *Portal) notice(action string) string {
	if p.LocalMailbox {
		if t, ok := mailboxNoticeText[action]; ok {
			return t
		}
	}
	return noticeText[action]
}

var mailboxNoticeText = map[string]string{
	"ask":    "The question is in the local mailbox, not sent: no SMTP server is configured (see Mailbox).",
	"reject": "The request was rejected; the message telling the person why is in the local mailbox, not sent (see Mailbox).",
	"extend": "The deadline was extended; the message telling the person why is in the local mailbox, not sent (see Mailbox).",
}

var noticeText = map[string]string{
	"take": "You took the request.", "ask": "The question was sent.", "execute": "Execution ran; see the steps below.",
	"reject": "The request was rejected and the person told why.", "extend": "The deadline was extended and the person told why.",
}
