package rights

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Request types and channels.
const (
	Erasure = "erasure"
	Access  = "access"

	ChannelWeb      = "web"
	ChannelApp      = "app"
	ChannelFacebook = "facebook"
	ChannelGlean    = "glean"
)

// Errors a caller turns into a message for the person or the client.
var (
	ErrNotFound  = errors.New("no such request")
	ErrBadToken  = errors.New("the link is not valid for this request")
	ErrExpired   = errors.New("the link has expired")
	ErrUsed      = errors.New("the link was already used")
	ErrChanged   = errors.New("the request changed meanwhile; reload and try again")
	ErrNotReady  = errors.New("the request is not ready for that")
	ErrBadIntake = errors.New("the request is not complete")
)

// DuplicateError says a live request for the same person and type exists.
type DuplicateError struct{ Existing store.Request }

func (e *DuplicateError) Error() string {
	if e.Existing.Status == string(Done) {
		return fmt.Sprintf("an %s request for this person was already completed (request %s)", e.Existing.Type, e.Existing.ID)
	}
	return fmt.Sprintf("an %s request for this person is already open (request %s); its status page link was sent by e-mail", e.Existing.Type, e.Existing.ID)
}

// Service runs the request lifecycle. Every change of a request goes
// through the workflow core (transition, note), which stores the change,
// its history entry and the e-mails it causes in one transaction.
type Service struct {
	Store    Store
	Keyer    *minimise.Keyer
	Clock    clock.Clock
	Log      *slog.Logger
	Config   Config
	Identity Identity
	// Connectors hold the subject's data; execution runs each in order.
	Connectors []Connector
	// Wake, when set, tells the outbox worker a message is waiting.
	Wake func()
	// Sealer seals the links in e-mails (status page, confirmation) into
	// their outbox messages; nil means one derived from Keyer.
	Sealer *notify.Sealer

	sealerOnce    sync.Once
	derivedSealer *notify.Sealer
}

// Intake is a new request as a channel received it.
type Intake struct {
	Channel        string
	Type           string
	Email          string
	AppUserID      string
	FacebookUserID string
	// Acknowledged: the person confirmed that erasure cannot be undone.
	Acknowledged bool
	Law          string
}

// Submitted is a stored new request.
type Submitted struct {
	Request store.Request
	// StatusURL is the status page link (with its token).
	StatusURL string
}

// Submit validates and stores a new request. Web and app requests wait for
// the person to confirm their e-mail address; a Facebook request starts
// received but cannot be executed until the account's e-mail owner
// confirms (removing an app on Facebook is not a clear wish to erase).
func (s *Service) Submit(ctx context.Context, in Intake) (Submitted, error) {
	now := s.Clock.Now().UTC()
	for _, f := range []struct{ what, text string }{
		{"e-mail address", in.Email}, {"app user id", in.AppUserID}, {"Facebook user id", in.FacebookUserID}, {"law", in.Law},
	} {
		if err := checkText(f.what, f.text, false); err != nil {
			return Submitted{}, err
		}
	}
	email, err := normaliseEmail(in.Email, in.Channel != ChannelFacebook)
	if err != nil {
		return Submitted{}, err
	}
	switch {
	case in.Type != Erasure && in.Type != Access:
		return Submitted{}, fmt.Errorf("%w: the type must be erasure or access", ErrBadIntake)
	case in.Type == Erasure && in.Channel == ChannelWeb && !in.Acknowledged:
		return Submitted{}, fmt.Errorf("%w: please confirm that you understand erasure cannot be undone", ErrBadIntake)
	case in.Channel == ChannelApp && strings.TrimSpace(in.AppUserID) == "":
		return Submitted{}, fmt.Errorf("%w: app requests carry the app's user id", ErrBadIntake)
	case len(in.AppUserID) > 128:
		return Submitted{}, fmt.Errorf("%w: the app user id is longer than 128 characters", ErrBadIntake)
	}
	law := in.Law
	if law == "" {
		law = s.Config.DefaultLaw
	}
	l, ok := s.Config.Laws[law]
	if !ok {
		return Submitted{}, fmt.Errorf("%w: unknown law %q", ErrBadIntake, law)
	}
	r := store.Request{
		ID: newID(), Channel: in.Channel, Type: in.Type, Email: email, AppUserID: strings.TrimSpace(in.AppUserID),
		FacebookUserID: in.FacebookUserID, Law: law, DueAt: l.Due(now), CreatedAt: now, UpdatedAt: now, StatusAt: now, Version: 1,
	}
	if in.Channel == ChannelFacebook && email == "" && s.Identity != nil {
		// Find whose account the Facebook user is, to e-mail them.
		if acct, err := s.Identity.Resolve(ctx, ByFacebookID, in.FacebookUserID); err == nil {
			r.Email, r.AccountID = subject.Normalise(subject.Email, acct.Email), acct.ID
		} else if !errors.Is(err, ErrNoAccount) {
			return Submitted{}, err
		}
	}
	r.SubjectKey = s.subjectKey(r)
	r.StatusTokenHash = hashToken(s.statusToken(r.ID))
	var note string
	switch in.Channel {
	case ChannelFacebook:
		r.Status = string(Received)
		r.ConfirmationCode = confirmationCode()
		note = "received from Facebook's data-deletion callback; needs the account owner's e-mailed confirmation before erasure"
	default:
		r.Status = string(WaitingForEmail)
		note = fmt.Sprintf("%s request received from the %s; confirmation e-mail sent", in.Type, channelWords(in.Channel))
	}
	var out []store.OutboxMessage
	if r.Email != "" {
		code := secret()
		r.ConfirmHash = hashToken(code)
		out = append(out, s.mail(r, mailConfirm, s.confirmURL(r.ID, code)))
	} else if in.Channel == ChannelFacebook {
		note += "; no account is linked to this Facebook user, so there is nobody to confirm"
	}
	if r.Status == string(Received) {
		out = append(out, s.supportNotice(r)...)
	}
	if r, err = s.machine().Create(ctx, r, in.Channel, note, out...); err != nil {
		if errors.Is(err, store.ErrConflict) {
			if existing, err2 := s.Store.RequestBySubject(ctx, r.SubjectKey, r.Type); err2 == nil {
				return Submitted{}, &DuplicateError{Existing: existing}
			}
		}
		return Submitted{}, err
	}
	return Submitted{Request: r, StatusURL: s.StatusURL(r.ID)}, nil
}

// View returns the request if token is its status token.
func (s *Service) View(ctx context.Context, id, token string) (store.Request, []store.RequestEvent, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return r, nil, err
	}
	if subtle.ConstantTimeCompare(hashToken(token), r.StatusTokenHash) != 1 {
		return store.Request{}, nil, ErrBadToken
	}
	hist, err := s.Store.RequestHistory(ctx, id)
	return r, hist, err
}

// Confirm records that the person owns the e-mail address: code is the
// secret from the confirmation e-mail. A used or expired code is refused.
func (s *Service) Confirm(ctx context.Context, id, token, code string) (store.Request, error) {
	r, _, err := s.View(ctx, id, token)
	if err != nil {
		return r, err
	}
	now := s.Clock.Now().UTC()
	switch {
	case len(r.ConfirmHash) == 0 && !r.EmailConfirmedAt.IsZero():
		return r, ErrUsed
	case len(r.ConfirmHash) == 0 || subtle.ConstantTimeCompare(hashToken(code), r.ConfirmHash) != 1:
		return r, ErrBadToken
	case now.Sub(r.CreatedAt) > s.Config.ConfirmWithin || !Status(r.Status).Open():
		return r, ErrExpired
	}
	r.ConfirmHash, r.EmailConfirmedAt = nil, now
	if Status(r.Status) == WaitingForEmail {
		return s.transition(ctx, r, Confirm, "user", "e-mail address confirmed", s.supportNotice(r))
	}
	// A Facebook request: already received; now it may be executed.
	return s.note(ctx, r, "user", "e-mail address confirmed: the account owner wants this request", nil)
}

// transition applies action to r (already changed by the caller as
// needed), with history and messages, in one transaction.
func (s *Service) transition(ctx context.Context, r store.Request, a Action, actor, note string, out []store.OutboxMessage) (store.Request, error) {
	if _, err := Next(Status(r.Status), a); err != nil {
		return r, fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	next, err := s.machine().Fire(ctx, r, workflow.Action(a), actor, note, out...)
	if errors.Is(err, store.ErrConflict) {
		return r, ErrChanged
	}
	return next, err
}

// note stores a change that keeps the status, with a history entry.
func (s *Service) note(ctx context.Context, r store.Request, actor, note string, out []store.OutboxMessage) (store.Request, error) {
	next, err := s.machine().Note(ctx, r, actor, note, out...)
	if errors.Is(err, store.ErrConflict) {
		return r, ErrChanged
	}
	return next, err
}

// machine is the workflow core set up for requests: how a request's
// status, history and version are read and written. Building it per call
// is cheap and picks up the Service's fields as they are.
func (s *Service) machine() *workflow.Machine[store.Request] {
	return &workflow.Machine[store.Request]{
		Kind: workflow.Kind[store.Request]{
			Table: lifecycle,
			State: func(r store.Request) workflow.State { return workflow.State(r.Status) },
			Enter: func(r *store.Request, st workflow.State, at time.Time) { r.Status, r.StatusAt = string(st), at },
			Touch: func(r *store.Request, at time.Time) { r.UpdatedAt = at },
			Insert: func(ctx context.Context, tx store.Tx, r *store.Request) error {
				return tx.CreateRequest(ctx, *r)
			},
			Update: func(ctx context.Context, tx store.Tx, r *store.Request) error {
				v, err := tx.UpdateRequest(ctx, *r)
				if err == nil {
					r.Version = v
				}
				return err
			},
			Record: func(ctx context.Context, tx store.Tx, r store.Request, h workflow.Entry) error {
				return tx.AppendRequestEvent(ctx, store.RequestEvent{RequestID: r.ID, At: h.At, Actor: h.Actor, From: string(h.From), To: string(h.To), Note: h.Note})
			},
			Messages: func(r store.Request, to workflow.State) []store.OutboxMessage {
				if m, ok := s.statusMail(r, Status(to)); ok {
					return []store.OutboxMessage{m}
				}
				return nil
			},
			InState: func(ctx context.Context, st workflow.State, before time.Time) ([]store.Request, error) {
				return s.Store.RequestsInStatus(ctx, string(st), before)
			},
		},
		Store: s.Store,
		Clock: s.Clock,
		Committed: func(r store.Request, h workflow.Entry, messages int) {
			if messages > 0 {
				s.wake()
			}
			if h.Action != "" {
				s.Log.Info("request status changed", "request", r.ID, "from", string(h.From), "to", string(h.To), "actor_kind", actorKind(h.Actor))
			}
		},
	}
}

func (s *Service) get(ctx context.Context, id string) (store.Request, error) {
	if !validID(id) {
		return store.Request{}, ErrNotFound
	}
	r, err := s.Store.GetRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

func (s *Service) wake() {
	if s.Wake != nil {
		s.Wake()
	}
}

// subjectKey identifies the person for duplicate detection: by e-mail when
// there is one, else by the channel's own id. Identifiers are normalised
// as subject keys are (intake already did; this keeps it so for any
// caller), but hashed in a domain of their own: this key names a request's
// person, not a collected event's.
func (s *Service) subjectKey(r store.Request) string {
	switch {
	case r.GleanClientID != "":
		return s.Keyer.Hash("dsr-subject", "glean:"+subject.Normalise(subject.UUID, r.GleanClientID))
	case r.Email != "":
		return s.Keyer.Hash("dsr-subject", "email:"+subject.Normalise(subject.Email, r.Email))
	case r.AppUserID != "":
		return s.Keyer.Hash("dsr-subject", "app:"+subject.Normalise(subject.Opaque, r.AppUserID))
	default:
		return s.Keyer.Hash("dsr-subject", "facebook:"+subject.Normalise(subject.Opaque, r.FacebookUserID))
	}
}

// statusToken is derived from the request id under the server key, so
// later e-mails can carry the link; only its hash is stored.
func (s *Service) statusToken(id string) string {
	return s.Keyer.Hash("dsr-status-token", id)[:43]
}

// StatusURL is the status page link for a request.
func (s *Service) StatusURL(id string) string {
	return s.Config.PublicURL + "/privacy/requests/" + id + "?token=" + s.statusToken(id)
}

func (s *Service) confirmURL(id, code string) string {
	return s.Config.PublicURL + "/privacy/requests/" + id + "/confirm?token=" + s.statusToken(id) + "&code=" + code
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

var idEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newID is "r-" and 16 random characters (80 bits): ids appear in e-mails
// and URLs and must not be guessable in bulk, though the token guards the
// page.
func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "r-" + idEncoding.EncodeToString(b[:])
}

func validID(id string) bool {
	if len(id) != 18 || !strings.HasPrefix(id, "r-") {
		return false
	}
	_, err := idEncoding.DecodeString(id[2:])
	return err == nil
}

func secret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// confirmationCode is what Facebook shows the person: alphanumeric.
func confirmationCode() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(idEncoding.EncodeToString(b[:]))
}

// checkText refuses text a request cannot hold: bytes that are not UTF-8
// and control characters (other than line breaks and tabs where lines
// are allowed). Request text is shown on pages, mailed as charset=utf-8
// and stored; SQLite would keep such bytes and PostgreSQL refuse them
// (NUL included) as if it were down. The message never quotes the text.
func checkText(what, s string, lines bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: the %s is not valid text: it holds bytes that are not UTF-8. Type it again", ErrBadIntake, what)
	}
	bad := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(lines && (r == '\n' || r == '\r' || r == '\t'))
	})
	if bad >= 0 {
		return fmt.Errorf("%w: the %s is not valid text: it holds a control character. Type it again", ErrBadIntake, what)
	}
	return nil
}

func normaliseEmail(s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", fmt.Errorf("%w: an e-mail address is needed to confirm the request and tell you its progress", ErrBadIntake)
		}
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", fmt.Errorf("%w: %q is not an e-mail address like name@example.org", ErrBadIntake, truncate(s, 80))
	}
	// The same normalisation as collected e-mail subjects, so the
	// address erasure hashes is the one collection hashed.
	return subject.Normalise(subject.Email, s), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func channelWords(c string) string {
	switch c {
	case ChannelWeb:
		return "web form"
	case ChannelApp:
		return "app"
	}
	return c
}

// actorKind keeps staff names and addresses out of the server log.
func actorKind(actor string) string {
	switch actor {
	case "user", "system", ChannelFacebook, ChannelApp, ChannelWeb, ChannelGlean:
		return actor
	}
	return "staff"
}
