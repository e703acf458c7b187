// Package subject serves the public pages of data subject requests: the
// request form, the e-mailed confirmation, the status page with its
// question-and-answer form and the access archive download. They work
// without JavaScript, load nothing from another host and set no cookie:
// each is drawn in the ui shell under the controller's name, and the
// server's ui.Protect refuses forms posted from another site.
package subject

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/ratelimit"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

//go:embed templates/*.html
var files embed.FS

var pages = ui.MustParse(files, "templates/*.html")

// Pages serves the public request pages.
type Pages struct {
	Rights *rights.Service
	// Registry names the controller on the request form; nil shows only
	// the name from the requests settings.
	Registry *registry.Source
	Access   accesslog.Recorder
	IPs      clientip.Resolver
	Log      *slog.Logger
	// Intake limits form submissions per client network: each one can
	// send an e-mail to any address, so the form must not become a way
	// to flood mailboxes. Nil means no limit.
	Intake *ratelimit.Limiter
	// LocalMailbox is set when no SMTP server is configured: mail is only
	// kept in steward's local mailbox, and the pages say so rather than
	// claim it was sent.
	LocalMailbox bool
}

type form struct {
	Email, Type string
	Ack         bool
}

type view struct {
	Title, Error, Notice    string
	Form                    form
	Email                   string
	LocalMailbox            bool
	Request                 store.Request
	Token, Code             string
	Answer                  string // what was typed, when it is shown again
	StatusWords             string
	Open, NeedsConfirmation bool
	ExportReady             bool
	// Receipt is set for a finished erasure: what was erased where, in
	// words for the person.
	Receipt *receiptView
	// Unanswered is our question a request was closed without an answer to.
	Unanswered string
	History    []historyLine
	// Intake is what the request form says about who answers and when.
	Intake intake
}

// intake is what the request form says before anyone asks: who the
// controller is, where the privacy notice is and how long an answer may
// take.
type intake struct {
	Controller, Contact, DPO string
	Law, Time, Extension     string
	Notice                   string
}

// receiptView is a finished erasure's receipt as the status page tells it.
type receiptView struct {
	Lines []erased
	// Nothing names the systems that held nothing about the person.
	Nothing []string
	// KeyURL is where the key that checks the signed receipt is published;
	// Fingerprint is the key itself, base64, to compare by eye.
	KeyURL, Fingerprint string
}

type erased struct {
	Where, What string
	At          time.Time
	// Same: the line is about the same system as the one above it.
	Same bool
}

type historyLine struct {
	At    time.Time
	Words string
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if err := pages.Render(w, r, status, page, ui.Page{Title: v.Title, Error: v.Error, Notice: v.Notice,
		Site: p.Rights.Config.Controller, Data: v}); err != nil {
		p.Log.Error("privacy page: render failed", "page", page, "err", err)
	}
}

// fail shows the error page under the controller's name, with a way to a
// fresh request unless next says otherwise.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, status int, title, text string, next ...ui.Link) {
	pr := ui.Problem{Site: p.Rights.Config.Controller, Title: title, Text: text,
		Next: ui.Link{Label: "Make a request", Path: "/privacy/requests/new"}}
	if len(next) > 0 {
		pr.Next = next[0]
	}
	ui.Error(w, r, status, pr)
}

// New handles GET /privacy/requests/new.
func (p *Pages) New(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "new", p.newView())
}

// NoticePath is where the privacy notice is published.
const NoticePath = "/privacy"

// newView is the request form, naming who answers and how soon.
func (p *Pages) newView() view {
	cfg := p.Rights.Config
	law := cfg.Laws[cfg.DefaultLaw]
	in := intake{Controller: cfg.Controller, Law: strings.ToUpper(cfg.DefaultLaw), Time: law.Words(), Extension: law.ExtensionWords(), Notice: NoticePath}
	if p.Registry != nil {
		if c := p.Registry.Current().Controller; c.Name != "" {
			in.Controller, in.Contact, in.DPO = c.Name, c.Contact, c.DPO
		}
	}
	return view{Title: "Your personal data", Intake: in}
}

// Create handles POST /privacy/requests.
func (p *Pages) Create(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, "The form could not be read", "Nothing was sent. Go back and try again.")
		return
	}
	f := form{Email: strings.TrimSpace(r.PostFormValue("email")), Type: r.PostFormValue("type"), Ack: r.PostFormValue("acknowledge") == "yes"}
	// The service refuses what is not UTF-8; the form shows it again as
	// valid text, so the page itself is.
	shown := f
	shown.Email = ui.ValidText(f.Email)
	if p.Intake != nil && !p.Intake.Allow(p.IPs.Addr(r)) {
		w.Header().Set("Retry-After", "3600")
		p.fail(w, r, http.StatusTooManyRequests, "Please try again later",
			"Too many requests were sent from your network in the last hour. Please try again later; nothing was stored.")
		return
	}
	sub, err := p.Rights.Submit(r.Context(), rights.Intake{Channel: rights.ChannelWeb, Type: f.Type, Email: f.Email, Acknowledged: f.Ack})
	var dup *rights.DuplicateError
	switch {
	case errors.As(err, &dup):
		v := p.newView()
		v.Form, v.Error = shown, sentence(dup)
		p.render(w, r, http.StatusConflict, "new", v)
		return
	case errors.Is(err, rights.ErrBadIntake):
		v := p.newView()
		v.Form, v.Error = shown, sentence(err)
		p.render(w, r, http.StatusBadRequest, "new", v)
		return
	case err != nil:
		p.unavailable(w, r, err)
		return
	}
	if p.LocalMailbox {
		p.render(w, r, http.StatusOK, "sent", view{Title: "Your request was received", Email: sub.Request.Email, LocalMailbox: true})
		return
	}
	p.render(w, r, http.StatusOK, "sent", view{Title: "Check your e-mail", Email: sub.Request.Email})
}

// Status handles GET /privacy/requests/{id}?token=….
func (p *Pages) Status(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	req, hist, err := p.Rights.View(r.Context(), r.PathValue("id"), token)
	if err != nil {
		p.viewError(w, r, err)
		return
	}
	v := p.statusView(req, hist, token)
	if n := r.URL.Query().Get("notice"); knownNotices[n] {
		v.Notice = noticeText[n]
	}
	p.render(w, r, http.StatusOK, "status", v)
}

// statusView is what the status page shows of a request.
func (p *Pages) statusView(req store.Request, hist []store.RequestEvent, token string) view {
	v := view{Title: "Your request", Request: req, Token: token, StatusWords: rights.Status(req.Status).Words(),
		Open: rights.Status(req.Status).Open(), LocalMailbox: p.LocalMailbox}
	v.NeedsConfirmation = req.EmailConfirmedAt.IsZero() && v.Open && req.Status != string(rights.WaitingForEmail)
	v.ExportReady = req.ExportPath != "" && p.Rights.Clock.Now().Before(req.ExportExpiresAt)
	if req.Receipt != "" {
		// Checked against the key it carries: the page shows what the
		// receipt says and which key signed it, even one from before a
		// change of the hashing key.
		if rc, err := rights.VerifyReceipt(req.Receipt, nil); err == nil {
			v.Receipt = p.receiptView(rc, rights.ReceiptSigner(req.Receipt))
		} else {
			p.Log.Error("privacy page: a stored receipt does not verify", "request", req.ID, "err", err)
		}
	}
	if req.Status == string(rights.Rejected) && req.Question != "" && req.Answer == "" {
		v.Unanswered = req.Question
	}
	for _, h := range hist {
		v.History = append(v.History, historyLine{At: h.At, Words: p.publicWords(h)})
	}
	return v
}

// receiptView tells a receipt in plain words: each system by its label,
// what was done there, and only the steps that did something; the systems
// that held nothing are named once, together.
func (p *Pages) receiptView(rc rights.Receipt, signer string) *receiptView {
	v := &receiptView{KeyURL: rights.ReceiptKeyPath, Fingerprint: signer}
	found := map[string]bool{}
	var order []string
	for _, st := range rc.Steps {
		where := st.Label
		if where == "" {
			where = p.Rights.Label(st.System)
		}
		if _, seen := found[where]; !seen {
			order = append(order, where)
			found[where] = false
		}
		if st.Count == 0 {
			continue
		}
		found[where] = true
		what := records(st.Count) + " erased"
		if st.Phase == rights.PhaseDeactivate {
			what = "made unusable at once (" + records(st.Count) + ")"
		}
		v.Lines = append(v.Lines, erased{Where: where, What: what, At: st.FinishedAt})
	}
	for _, where := range order {
		if !found[where] {
			v.Nothing = append(v.Nothing, where)
		}
	}
	// One system's steps together, in time order, its name once.
	slices.SortStableFunc(v.Lines, func(a, b erased) int { return slices.Index(order, a.Where) - slices.Index(order, b.Where) })
	for i := len(v.Lines) - 1; i > 0; i-- {
		if v.Lines[i].Where == v.Lines[i-1].Where {
			v.Lines[i].Same = true
		}
	}
	return v
}

func records(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return strconv.FormatInt(n, 10) + " records"
}

// Receipt handles GET /privacy/requests/{id}/receipt?token=…: the signed
// receipt of a finished erasure, as a file to keep.
func (p *Pages) Receipt(w http.ResponseWriter, r *http.Request) {
	req, file, err := p.Rights.ReceiptDownload(r.Context(), r.PathValue("id"), r.URL.Query().Get("token"))
	if err != nil {
		p.viewError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+req.ID+`-receipt.json"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(file)
}

// ReceiptKey handles GET /.well-known/steward-receipt-key.pem and .jwk:
// the key that checks this server's receipts, for anyone to fetch.
func (p *Pages) ReceiptKey(w http.ResponseWriter, r *http.Request) {
	pub := p.Rights.ReceiptKey()
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if strings.HasSuffix(r.URL.Path, ".jwk") {
		w.Header().Set("Content-Type", "application/jwk+json")
		_, _ = w.Write(rights.PublicKeyJWK(pub))
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(rights.PublicKeyPEM(pub))
}

var noticeText = map[string]string{
	"confirmed": "Thank you: your request is confirmed.",
	"answered":  "Thank you: we received your answer.",
}
var knownNotices = map[string]bool{"confirmed": true, "answered": true}

// ConfirmPage handles GET /privacy/requests/{id}/confirm: it only shows a
// button, because mail scanners open links and must not confirm anything.
func (p *Pages) ConfirmPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, _, err := p.Rights.View(r.Context(), r.PathValue("id"), q.Get("token"))
	if err != nil {
		p.viewError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "confirm", view{Title: "Confirm your request", Request: req, Token: q.Get("token"), Code: q.Get("code")})
}

// Confirm handles POST /privacy/requests/{id}/confirm.
func (p *Pages) Confirm(w http.ResponseWriter, r *http.Request) {
	if !p.checkForm(w, r) {
		return
	}
	id, token := r.PathValue("id"), r.PostFormValue("token")
	_, err := p.Rights.Confirm(r.Context(), id, token, r.PostFormValue("code"))
	switch {
	case err == nil:
		http.Redirect(w, r, "/privacy/requests/"+id+"?token="+token+"&notice=confirmed", http.StatusSeeOther)
	case errors.Is(err, rights.ErrUsed):
		http.Redirect(w, r, "/privacy/requests/"+id+"?token="+token+"&notice=confirmed", http.StatusSeeOther)
	default:
		p.viewError(w, r, err)
	}
}

// Answer handles POST /privacy/requests/{id}/answer.
func (p *Pages) Answer(w http.ResponseWriter, r *http.Request) {
	if !p.checkForm(w, r) {
		return
	}
	id, token := r.PathValue("id"), r.PostFormValue("token")
	_, err := p.Rights.AnswerQuestion(r.Context(), id, token, r.PostFormValue("answer"))
	switch {
	case err == nil:
		http.Redirect(w, r, "/privacy/requests/"+id+"?token="+token+"&notice=answered", http.StatusSeeOther)
	case errors.Is(err, rights.ErrBadIntake):
		// The status page again, with the message and what was typed.
		req, hist, verr := p.Rights.View(r.Context(), id, token)
		if verr != nil {
			p.viewError(w, r, verr)
			return
		}
		v := p.statusView(req, hist, token)
		v.Error = "Your answer was not sent. " + sentence(err)
		v.Answer = ui.ValidText(r.PostFormValue("answer"))
		p.render(w, r, http.StatusBadRequest, "status", v)
	default:
		p.viewError(w, r, err)
	}
}

// Export handles GET /privacy/requests/{id}/export?token=…: the download
// is recorded in the access log before a byte is sent.
func (p *Pages) Export(w http.ResponseWriter, r *http.Request) {
	req, path, err := p.Rights.ExportFile(r.Context(), r.PathValue("id"), r.URL.Query().Get("token"))
	if err != nil {
		p.viewError(w, r, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		p.viewError(w, r, rights.ErrExpired)
		return
	}
	defer f.Close()
	e := &accesslog.Entry{At: p.Rights.Clock.Now(), Actor: "data subject", AuthMethod: "status-token", CredentialID: req.ID,
		Role: "data_subject", Purpose: "data_subject_request", Dataset: "@request_export", Query: "access archive of request " + req.ID,
		SubjectKeys: []string{req.SubjectKey}, Decision: accesslog.Allowed, Reason: "the person's own access request"}
	if a := p.IPs.Addr(r); a.IsValid() {
		e.ClientNet = minimise.TruncateIP(a, 24, 48).String()
	}
	if err := p.Access.Append(r.Context(), e); err != nil {
		p.unavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+req.ID+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, req.ID+".zip", time.Time{}, f)
}

func (p *Pages) checkForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, "The form could not be read", "Nothing was sent. Go back and try again.")
		return false
	}
	return true
}

// viewError answers a bad link the same way whether the request exists
// or not, so ids cannot be probed.
func (p *Pages) viewError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, rights.ErrNotFound), errors.Is(err, rights.ErrBadToken):
		p.fail(w, r, http.StatusNotFound, "This link is not valid", "Check that you copied the whole link from our e-mail.")
	case errors.Is(err, rights.ErrExpired):
		p.fail(w, r, http.StatusGone, "This link has expired",
			"The request was closed or the link is too old. You are welcome to make a new request.")
	case errors.Is(err, rights.ErrNotReady), errors.Is(err, rights.ErrChanged):
		p.fail(w, r, http.StatusConflict, "That cannot be done now", sentence(err))
	default:
		p.unavailable(w, r, err)
	}
}

func (p *Pages) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	p.Log.Error("privacy page: failed", "err", err)
	w.Header().Set("Retry-After", "30")
	p.fail(w, r, http.StatusServiceUnavailable, "Please try again in a moment",
		"We could not save or read your request just now. Nothing was lost; please try again in a minute.")
}

// publicWords tells the history without staff names or internal notes.
func (p *Pages) publicWords(h store.RequestEvent) string {
	if h.From == h.To {
		switch {
		case strings.HasPrefix(h.Note, "e-mail address confirmed"):
			return "You confirmed the request."
		case strings.HasPrefix(h.Note, "deadline extended"):
			return "We extended the deadline: " + strings.SplitN(h.Note, ": ", 2)[len(strings.SplitN(h.Note, ": ", 2))-1]
		case strings.HasPrefix(h.Note, "deactivated"):
			return "Your account was deactivated everywhere; the data will be deleted after the grace period."
		case strings.HasPrefix(h.Note, "execution started"):
			return "We started carrying out the request."
		case h.From == "":
			return "We received the request."
		}
		return "We worked on the request."
	}
	switch rights.Status(h.To) {
	case rights.WaitingForEmail:
		if p.LocalMailbox {
			// No mail server: the message waits in the site's local mailbox.
			return "We received the request and wrote you a confirmation link, but this site has no mail server set up, so it was not sent; the site's operator can pass it on."
		}
		return "We received the request and e-mailed you a confirmation link."
	case rights.Received:
		if h.From == "" {
			return "We received the request."
		}
		return "You confirmed the request; it is waiting for our team."
	case rights.InProgress:
		if rights.Status(h.From) == rights.WaitingForUser {
			return "You answered our question; we continue."
		}
		return "Our team started work on the request."
	case rights.WaitingForUser:
		return "We asked you a question."
	case rights.Done:
		return "The request is done."
	case rights.Rejected:
		return "The request was closed without action."
	}
	return "The request changed."
}

// sentence turns an error into a sentence for a page.
func sentence(err error) string {
	s := err.Error()
	for _, prefix := range []string{rights.ErrBadIntake.Error() + ": ", rights.ErrNotReady.Error() + ": "} {
		s = strings.TrimPrefix(s, prefix)
	}
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
