// Package signin is the staff's way into steward's pages: the sign-in form
// (steward's own users with argon2id passwords, then the corporate
// directory), throttling of guessed passwords, the account page and
// sign-out.
package signin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/auth/ldap"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

//go:embed templates/*.html
var files embed.FS

var pages = ui.MustParse(files, "templates/*.html")

// Throttling: guessed passwords are stopped per account and per client
// network, counted over a sliding window in the database so every node
// sharing it sees the same count.
const (
	Window         = 15 * time.Minute
	MaxPerAccount  = 5
	MaxPerNetwork  = 50
	maxLoginLength = 256
)

// AccountKey is what failed sign-ins with login are counted under: a
// keyed hash of the login in lower case, so the same login in any case
// counts once and the table never holds what was typed. `steward user
// unlock` clears it.
func AccountKey(k *minimise.Keyer, login string) string {
	return "account:" + k.Hash("login-failures", strings.ToLower(strings.TrimSpace(login)))
}

// Directory is the corporate directory (internal/auth/ldap.Directory).
type Directory interface {
	Authenticate(ctx context.Context, login, password string) (ldap.Identity, error)
}

// Service serves /login, /logout and /account. The server wraps every
// route in ui.Protect, which refuses a sign-in posted from another site
// (login CSRF).
type Service struct {
	Accounts store.Accounts
	Sessions auth.Sessions
	// Directory is nil when no LDAP directory is configured.
	Directory Directory
	IPs       clientip.Resolver
	Log       *slog.Logger
	// Keyer hashes the typed login for the log and the failure counts:
	// people type passwords into the login field, and a failed attempt's
	// address is nobody's business but the throttle's.
	Keyer *minimise.Keyer
	// Argon2 is the cost of the hash checked for unknown e-mails, so an
	// unknown account costs the same time as a wrong password; it should
	// match what `steward user add` uses.
	Argon2 auth.Argon2Params

	dummyOnce sync.Once
	dummy     string
	// hashing bounds concurrent argon2id checks: each takes its memory
	// cost, so a burst of sign-ins cannot exhaust the server's memory.
	hashing chan struct{}
}

// ConcurrentChecks is how many password checks may run at once.
const ConcurrentChecks = 4

// Init prepares the service before it serves.
func (s *Service) Init() error {
	if s.Argon2.Memory == 0 || s.Argon2.Time == 0 || s.Argon2.Threads == 0 {
		return fmt.Errorf("signin: argon2 cost %+v is not usable", s.Argon2)
	}
	if s.Keyer == nil {
		return errors.New("signin: no hashing key")
	}
	s.hashing = make(chan struct{}, ConcurrentChecks)
	return nil
}

// checkPassword runs one argon2id check within the concurrency bound.
// The dummy hash for unknown accounts is made on first need, so a node
// nobody signs in to never spends the memory.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	if hash == "" {
		s.dummyOnce.Do(func() { s.dummy, _ = auth.HashPassword("steward-no-such-user-password", s.Argon2) })
		hash = s.dummy
	}
	return auth.CheckPassword(hash, password)
}

type view struct {
	Title, Error, Notice, Next, Login string
	// ChooseRole offers a field to name one of several roles. Only the
	// directory gives a person several (steward's own accounts hold one),
	// and the form names none of them: an anonymous visitor learns nothing
	// of who does what.
	ChooseRole bool
	Role       string
	S          store.Session
}

func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if err := pages.Render(w, r, status, page, ui.Page{Title: v.Title, Error: v.Error, Notice: v.Notice, Data: v}); err != nil {
		s.Log.Error("signin: render failed", "page", page, "err", err)
	}
}

// Form handles GET /login.
func (s *Service) Form(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Sign in to steward", Next: safeNext(r.URL.Query().Get("next")), ChooseRole: s.Directory != nil}
	if ss, ok := s.Sessions.Current(r); ok {
		v.Notice = "You are signed in as " + ss.Name + " (" + ss.Role + "). Signing in again replaces that session."
	} else if r.URL.Query().Get("signed_out") != "" {
		v.Notice = "You are signed out."
	}
	s.render(w, r, http.StatusOK, "login", v)
}

// Login handles POST /login.
func (s *Service) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	v := view{Title: "Sign in to steward", ChooseRole: s.Directory != nil}
	fail := func(status int, msg string) {
		v.Error = msg
		s.render(w, r, status, "login", v)
	}
	if err := r.ParseForm(); err != nil {
		ui.Error(w, r, http.StatusBadRequest, ui.Problem{Title: "The form could not be read", Text: "Nothing was sent. Go back and try again."})
		return
	}
	v.Next = safeNext(r.PostFormValue("next"))
	login := strings.TrimSpace(r.PostFormValue("login"))
	password := r.PostFormValue("password")
	wantRole := strings.TrimSpace(r.PostFormValue("role"))
	v.Login = login
	if login == "" || password == "" {
		fail(http.StatusBadRequest, "Enter your e-mail (or directory login) and your password.")
		return
	}
	if len(login) > maxLoginLength || len(password) > auth.MaxPasswordLen {
		fail(http.StatusBadRequest, "The e-mail or password is too long.")
		return
	}
	// The login is looked up in the database and the directory, so it
	// must be text; a browser never sends a password that is not UTF-8.
	if !ui.IsText(login) || !utf8.ValidString(password) {
		v.Login = ui.ValidText(login)
		fail(http.StatusBadRequest, "The e-mail (or login) or the password "+ui.NotText)
		return
	}
	if wantRole != "" && (!ui.IsText(wantRole) || len(wantRole) > 64) {
		fail(http.StatusBadRequest, "The role "+ui.NotText)
		return
	}
	v.Role = wantRole
	if wantRole != "" && !auth.ValidRole(wantRole) {
		// Refused before the password is checked: the names are in the
		// docs, so this tells nobody anything, and no guess is spent.
		fail(http.StatusBadRequest, "There is no role of that name; leave the field empty to sign in with the first role your directory gives you.")
		return
	}
	ctx := r.Context()
	now := s.Sessions.Clock.Now()
	folded := strings.ToLower(login)
	// Counted and logged under keyed hashes, never the text: the same
	// login (in any case) gives the same hash, so a guessing run can be
	// followed in the log without the log holding what was typed.
	accountKey := AccountKey(s.Keyer, login)
	loginHash := s.Keyer.Hash("login-log", folded)[:16]
	netKey := "net:" + s.network(r)
	since := now.Add(-Window)
	na, err1 := s.Accounts.LoginFailures(ctx, accountKey, since)
	nn, err2 := s.Accounts.LoginFailures(ctx, netKey, since)
	if err := errors.Join(err1, err2); err != nil {
		s.unavailable(w, r, err)
		return
	}
	if na >= MaxPerAccount || nn >= MaxPerNetwork {
		s.Log.Warn("signin: throttled", "login_hash", loginHash, "account_failures", na, "network_failures", nn)
		w.Header().Set("Retry-After", fmt.Sprint(int(Window.Seconds())))
		ui.Error(w, r, http.StatusTooManyRequests, ui.Problem{Title: "Please wait before signing in again",
			Text: fmt.Sprintf("Too many failed sign-ins. Wait %d minutes and try again; if you forgot your password, ask an administrator.", int(Window.Minutes()))})
		return
	}

	id, why, err := s.check(ctx, login, password, wantRole)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if why != "" {
		_, err1 := s.Accounts.RecordLoginFailure(ctx, accountKey, now, since)
		_, err2 := s.Accounts.RecordLoginFailure(ctx, netKey, now, since)
		if err := errors.Join(err1, err2); err != nil {
			s.Log.Error("signin: could not record a failure", "err", err)
		}
		s.Log.Info("signin: refused", "login_hash", loginHash, "reason", why)
		fail(http.StatusUnauthorized, why)
		return
	}
	if _, err := s.Sessions.Start(ctx, w, r, id); err != nil {
		s.unavailable(w, r, err)
		return
	}
	_ = s.Accounts.ClearLoginFailures(ctx, accountKey)
	s.Log.Info("signin: signed in", "who", id.Name, "role", id.Role, "method", id.Method)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// Messages a person reads after a refused sign-in. One message covers an
// unknown account and a wrong password, so the form does not tell which
// accounts exist.
const (
	msgInvalid   = "The e-mail (or login) or the password is wrong."
	msgNoRole    = "Your password is right, but none of your directory groups gives you a steward role. Ask an administrator."
	msgRole      = "You do not hold the role you chose."
	msgDirectory = "The e-mail (or login) or the password is wrong. The corporate directory could not be reached just now, so directory accounts cannot sign in; steward's own accounts still can."
)

// check tries steward's own users first, then the directory. It returns
// either an identity or a reason for the person; err is for outages of
// steward's own store only.
func (s *Service) check(ctx context.Context, login, password, wantRole string) (auth.Identity, string, error) {
	u, err := s.Accounts.UserByEmail(ctx, login)
	switch {
	case err == nil:
		ok, herr := s.checkPassword(ctx, u.PasswordHash, password)
		if herr != nil {
			return auth.Identity{}, "", fmt.Errorf("user %s: %w", u.ID, herr)
		}
		if ok && u.DisabledAt.IsZero() {
			if wantRole != "" && wantRole != u.Role {
				return auth.Identity{}, msgRole, nil
			}
			return auth.Identity{UserID: u.ID, Name: u.Email, Role: auth.Role(u.Role), Method: "password"}, "", nil
		}
		if ok {
			return auth.Identity{}, msgInvalid, nil // disabled: say no more than for a wrong password
		}
	case errors.Is(err, store.ErrNotFound):
		if _, err := s.checkPassword(ctx, "", password); err != nil && ctx.Err() != nil {
			return auth.Identity{}, "", err
		}
	default:
		return auth.Identity{}, "", err
	}
	if s.Directory == nil {
		return auth.Identity{}, msgInvalid, nil
	}
	di, err := s.Directory.Authenticate(ctx, login, password)
	switch {
	case errors.Is(err, ldap.ErrUnavailable):
		s.Log.Warn("signin: directory unavailable", "err", err)
		return auth.Identity{}, msgDirectory, nil
	case errors.Is(err, ldap.ErrNoRole):
		return auth.Identity{}, msgNoRole, nil
	case err != nil:
		return auth.Identity{}, msgInvalid, nil
	}
	role := di.Roles[0]
	if wantRole != "" {
		if !slices.Contains(di.Roles, auth.Role(wantRole)) {
			return auth.Identity{}, msgRole, nil
		}
		role = auth.Role(wantRole)
	}
	name := di.Email
	if name == "" {
		name = di.Login
	}
	return auth.Identity{UserID: "ldap:" + di.Login, Name: name, Role: role, Method: "ldap"}, "", nil
}

func (s *Service) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error("signin: store unavailable", "err", err)
	w.Header().Set("Retry-After", "30")
	ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Title: "Please try again in a minute", Text: "Sign-in is unavailable just now."})
}

// network is the client's minimised network: failures are counted per /24
// (IPv4) or /48 (IPv6), and no raw address is stored.
func (s *Service) network(r *http.Request) string {
	a := s.IPs.Addr(r)
	if !a.IsValid() {
		return "unknown"
	}
	return minimise.TruncateIP(a, 24, 48).String()
}

// Account handles GET /account (behind RequirePage).
func (s *Service) Account(w http.ResponseWriter, r *http.Request) {
	ss, _ := auth.SessionFromContext(r.Context())
	s.render(w, r, http.StatusOK, "account", view{Title: "Your account", S: ss})
}

// Logout handles POST /logout (behind RequirePage, so CSRF is checked).
func (s *Service) Logout(w http.ResponseWriter, r *http.Request) {
	s.Sessions.End(r.Context(), w, r)
	http.Redirect(w, r, auth.LoginPath+"?signed_out=1", http.StatusSeeOther)
}

// safeNext keeps the return address on this site. It accepts only an
// absolute path (with query and fragment) that parses as a relative
// reference with no scheme or host. Browsers drop TAB, LF and CR inside a
// URL and read a backslash as a slash, so "/\t/evil.test" or "/\evil.test"
// would reach another host: any control character or backslash, raw or
// percent-encoded, sends the person to the default page instead, as does
// a path that decodes to "//".
func safeNext(next string) string {
	const fallback = "/account"
	if len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return fallback
	}
	decoded, err := url.PathUnescape(next)
	if err != nil || !utf8.ValidString(decoded) || strings.HasPrefix(decoded, "//") {
		return fallback
	}
	for _, s := range []string{next, decoded} {
		if strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
			return fallback
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return fallback
	}
	return next
}
