package rights

import (
	"bytes"
	"encoding/json"
	"strings"
	"text/template"
	"time"

	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
)

// mailKind names one of the e-mails below.
type mailKind string

const (
	mailConfirm  mailKind = "confirm"
	mailReceived mailKind = "received"
	mailQuestion mailKind = "question"
	mailDone     mailKind = "done"
	mailRejected mailKind = "rejected"
	mailExport   mailKind = "export"
)

// The e-mails, in plain language; each carries the status page link.
var mails = map[mailKind]struct{ subject, body string }{
	mailConfirm: {"Please confirm your {{.Type}} request", `Hello,

We received a request to {{.Verb}} the personal data we hold about {{.Email}}.

If you made this request, please confirm it by opening this link:

  {{.ConfirmURL}}

Nothing happens until you confirm. If you did not make this request, ignore
this message: without confirmation the request is closed after {{.ConfirmDays}} days.

You can follow the request here at any time:

  {{.StatusURL}}

{{.Controller}}
`},
	mailReceived: {"We received your {{.Type}} request {{.ID}}", `Hello,

Thank you: your {{.Type}} request {{.ID}} is confirmed and our team will work on it.
The law gives us until {{.Due}} to complete it; we aim to be quicker.

Follow it here:

  {{.StatusURL}}

{{.Controller}}
`},
	mailQuestion: {"A question about your request {{.ID}}", `Hello,

To complete your {{.Type}} request {{.ID}} we need an answer from you:

  {{.Question}}

Please answer on the request's page:

  {{.StatusURL}}

If we hear nothing within {{.AnswerDays}} days, the request is closed.

{{.Controller}}
`},
	mailDone: {"Your {{.Type}} request {{.ID}} is done", `Hello,

Your {{.Type}} request {{.ID}} is complete.
{{if eq .Type "erasure"}}
The personal data we held about you has been erased from every system that
held it; the request's page lists each one with what was done and when, and
offers a signed receipt to download and keep, which anyone can check.
{{else}}
Your data is ready to download from the request's page until {{.ExportUntil}}.
{{end}}
  {{.StatusURL}}

{{.Controller}}
`},
	mailRejected: {"Your request {{.ID}} was closed", `Hello,

Your {{.Type}} request {{.ID}} was closed without action, for this reason:

  {{.Reason}}

You can see its history here:

  {{.StatusURL}}

If you think this is a mistake, you are welcome to make a new request.

{{.Controller}}
`},
}

// The secrets mails carry, by the name of their placeholder. A mail's text
// names them only by placeholder; their values are sealed with the message
// (notify.Sealer), so the outbox holds neither in clear, and the worker
// drops them once the mail is sent.
const (
	secretStatusLink  = "status page link"  // opens the status page and the access archive
	secretConfirmLink = "confirmation link" // confirms the request
)

// mail renders one e-mail to the request's address; confirmLink is the
// confirmation link, for the mail that asks for it. Both links stand in
// the text as placeholders and are sealed with the message.
func (s *Service) mail(r store.Request, kind mailKind, confirmLink string) store.OutboxMessage {
	verb := "erase"
	if r.Type == Access {
		verb = "send you a copy of"
	}
	data := map[string]any{
		"ID": r.ID, "Type": r.Type, "Verb": verb, "Email": r.Email, "StatusURL": notify.Placeholder(secretStatusLink),
		"Due": r.DueAt.Format("2 January 2006"), "Question": s.quoted(r, r.Question), "Reason": s.quoted(r, r.RejectReason),
		"ConfirmDays": int(s.Config.ConfirmWithin.Hours() / 24), "AnswerDays": int(s.Config.AnswerWithin.Hours() / 24),
		"Controller": s.Config.Controller, "ExportUntil": r.ExportExpiresAt.Format("2 January 2006 15:04 MST"),
	}
	values := map[string]string{secretStatusLink: s.StatusURL(r.ID)}
	if confirmLink != "" {
		data["ConfirmURL"], values[secretConfirmLink] = notify.Placeholder(secretConfirmLink), confirmLink
	}
	m := mails[kind]
	msg := store.OutboxMessage{
		Kind: store.OutboxEmail, To: r.Email, Subject: strings.TrimSpace(render(m.subject, data)), Body: render(m.body, data),
		Ref: "request:" + r.ID + ":" + string(kind), CreatedAt: s.Clock.Now().UTC(),
	}
	s.seal(&msg, values)
	return msg
}

// quoted is text staff wrote (a question, a reason) as a mail quotes it:
// unable to pose as a placeholder, and without the request's status token
// should someone have pasted a link, so the mail holds no secret in clear.
func (s *Service) quoted(r store.Request, text string) string {
	return strings.ReplaceAll(notify.Defang(text), s.statusToken(r.ID), "(token removed)")
}

// seal seals the message's secrets. It fails only if a mail's text lacks a
// placeholder or holds a secret in clear, which the mails' fixed text and
// quoted rule out, so like a template that does not parse it panics.
func (s *Service) seal(m *store.OutboxMessage, secrets map[string]string) {
	if err := s.sealer().Seal(m, secrets); err != nil {
		panic(err)
	}
}

// sealer is the Service's Sealer, or one derived from its hashing key
// (the same key, so the same Sealer, as the outbox worker's).
func (s *Service) sealer() *notify.Sealer {
	if s.Sealer != nil {
		return s.Sealer
	}
	s.sealerOnce.Do(func() { s.derivedSealer = notify.NewSealer(s.Keyer) })
	return s.derivedSealer
}

// statusMail is the e-mail a transition into to sends the person.
func (s *Service) statusMail(r store.Request, to Status) (store.OutboxMessage, bool) {
	if r.Email == "" {
		return store.OutboxMessage{}, false
	}
	switch to {
	case Received:
		return s.mail(r, mailReceived, ""), true
	case WaitingForUser:
		return s.mail(r, mailQuestion, ""), true
	case Done:
		return s.mail(r, mailDone, ""), true
	case Rejected:
		return s.mail(r, mailRejected, ""), true
	}
	return store.OutboxMessage{}, false
}

// supportNotice tells support a request is waiting: by e-mail and by the
// Slack-compatible webhook, each when configured. No personal data beyond
// the request id and type goes to the chat.
func (s *Service) supportNotice(r store.Request) []store.OutboxMessage {
	now := s.Clock.Now().UTC()
	link := s.Config.PublicURL + "/admin/requests/" + r.ID
	text := "New " + r.Type + " request " + r.ID + " (" + channelWords(r.Channel) + "), due " + r.DueAt.Format(time.DateOnly) + ": " + link
	var out []store.OutboxMessage
	if s.Config.SupportEmail != "" {
		out = append(out, store.OutboxMessage{Kind: store.OutboxEmail, To: s.Config.SupportEmail, Subject: "New " + r.Type + " request " + r.ID,
			Body: text + "\n", Ref: "request:" + r.ID + ":support", CreatedAt: now})
	}
	if s.Config.SupportWebhook != "" {
		body, _ := json.Marshal(map[string]string{"text": text})
		out = append(out, store.OutboxMessage{Kind: store.OutboxWebhook, To: s.Config.SupportWebhook, Body: string(body),
			Ref: "request:" + r.ID + ":support-webhook", CreatedAt: now})
	}
	return out
}

func render(tmpl string, data map[string]any) string {
	t := template.Must(template.New("").Option("missingkey=zero").Parse(tmpl))
	var b bytes.Buffer
	_ = t.Execute(&b, data)
	return strings.TrimSpace(b.String()) + "\n"
}
