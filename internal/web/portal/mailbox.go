package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"net/mail"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// Mailbox shows staff the local mailbox: the e-mail steward kept instead
// of sending because no SMTP server is configured. Every view is in the
// access log, under the subject keys of the people the mail was for.
type Mailbox struct {
	// Dir is the local mailbox; empty when mail goes over SMTP.
	Dir string
	// SMTPHost names the server mail goes to when Dir is empty.
	SMTPHost string
	// SubjectKey is the key of a person known by e-mail address, as their
	// requests carry it (rights.Service.EmailSubjectKey).
	SubjectKey func(email string) string
	Access     accesslog.Recorder
	IPs        clientip.Resolver
	Clock      clock.Clock
	Log        *slog.Logger
}

type mailView struct {
	Dir, SMTPHost string
	Messages      []notify.MailboxEntry
	Message       notify.MailboxMessage
}

func (m *Mailbox) render(w http.ResponseWriter, r *http.Request, page, title string, v mailView) {
	if err := pages.Render(w, r, http.StatusOK, page, ui.Page{Title: title, Wide: true, Data: v}); err != nil {
		m.Log.Error("portal: render failed", "page", page, "err", err)
	}
}

// List handles GET /admin/mail.
func (m *Mailbox) List(w http.ResponseWriter, r *http.Request) {
	v := mailView{Dir: m.Dir, SMTPHost: m.SMTPHost}
	if m.Dir != "" {
		list, err := notify.ListMailbox(m.Dir)
		if err != nil {
			m.unavailable(w, r, err)
			return
		}
		// Newest first: the message just caused is the one looked for.
		for i := len(list) - 1; i >= 0; i-- {
			v.Messages = append(v.Messages, list[i])
		}
		if !m.record(w, r, "list", v.Messages) {
			return
		}
	}
	m.render(w, r, "mailbox", "Local mailbox", v)
}

// Show handles GET /admin/mail/{id}.
func (m *Mailbox) Show(w http.ResponseWriter, r *http.Request) {
	if m.Dir == "" {
		ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No local mailbox",
			Text: "steward sends its mail to " + m.SMTPHost + " and keeps no copy.", Next: ui.Link{Label: "Local mailbox", Path: "/admin/mail"}})
		return
	}
	msg, err := notify.ReadMailbox(m.Dir, r.PathValue("id"))
	switch {
	case errors.Is(err, notify.ErrNoMail):
		ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No such message",
			Text: "The local mailbox holds no message with that id; it may have been deleted.", Next: ui.Link{Label: "Local mailbox", Path: "/admin/mail"}})
		return
	case err != nil && r.PathValue("id") != "latest" && !isDigits(r.PathValue("id")):
		ui.Error(w, r, http.StatusBadRequest, ui.Problem{Title: "That is not a message id",
			Text: "Open a message from the list of the local mailbox.", Next: ui.Link{Label: "Local mailbox", Path: "/admin/mail"}})
		return
	case err != nil:
		m.unavailable(w, r, err)
		return
	}
	if !m.record(w, r, "message "+msg.File, []notify.MailboxEntry{msg.MailboxEntry}) {
		return
	}
	m.render(w, r, "mailmessage", msg.Subject, mailView{Dir: m.Dir, Message: msg})
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// record puts the view in the access log before any of it is shown.
func (m *Mailbox) record(w http.ResponseWriter, r *http.Request, what string, msgs []notify.MailboxEntry) bool {
	who, _ := auth.FromContext(r.Context())
	e := accesslog.ForRequest(r, who, m.IPs, m.Clock.Now())
	e.Purpose, e.Dataset, e.Query = "data_subject_request", "@mailbox", "portal mailbox "+what
	e.Records, e.Decision, e.Reason = int64(len(msgs)), accesslog.Allowed, "staff reading the mail steward kept instead of sending (no SMTP server)"
	for _, msg := range msgs {
		if addr := mailAddress(msg.To); addr != "" && m.SubjectKey != nil {
			e.SubjectKeys = append(e.SubjectKeys, m.SubjectKey(addr))
		}
	}
	if err := m.Access.Append(r.Context(), e); err != nil {
		m.unavailable(w, r, err)
		return false
	}
	return true
}

// mailAddress is the address of a "Name <addr>" or bare recipient.
func mailAddress(to string) string {
	if a, err := mail.ParseAddress(to); err == nil {
		return a.Address
	}
	return ""
}

func (m *Mailbox) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	m.Log.Error("portal: local mailbox unreadable", "err", err)
	w.Header().Set("Retry-After", "30")
	ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Title: "Please try again", Text: "The local mailbox or the access log cannot be read just now; nothing was changed."})
}
