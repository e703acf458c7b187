package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

// StartTLS says whether the mailer upgrades its connection with STARTTLS.
type StartTLS string

const (
	// StartTLSRequired refuses to send unless the server offers STARTTLS
	// and the handshake verifies its certificate.
	StartTLSRequired StartTLS = "required"
	// StartTLSOpportunistic uses STARTTLS when the server offers it (and
	// then still verifies the certificate), plain text when it does not.
	StartTLSOpportunistic StartTLS = "opportunistic"
	// StartTLSOff never starts TLS; only for a relay on this host unless
	// MailerConfig.AllowInsecure says otherwise.
	StartTLSOff StartTLS = "off"
)

// Defaults for MailerConfig.
const (
	DefaultSMTPPort    = 587
	DefaultSMTPTimeout = 30 * time.Second
)

// MailerConfig describes the SMTP server steward submits mail to.
type MailerConfig struct {
	Host string
	// Port defaults to 587 (submission).
	Port int
	// From is the sender, e.g. "Steward <steward@example.org>"; it is
	// also the envelope sender.
	From string
	// Username and Password, when set, authenticate with AUTH PLAIN,
	// which is only ever sent over TLS or to a loopback address.
	Username, Password string
	// StartTLS defaults to StartTLSRequired.
	StartTLS StartTLS
	// AllowInsecure permits StartTLSOff to a host that is not loopback:
	// mail then crosses the network in clear.
	AllowInsecure bool
	// Timeout bounds one whole SMTP conversation; default 30s.
	Timeout time.Duration
	// HeloName is the name given in EHLO after TLS is up; default the
	// host name. (go-smtp always says "localhost" before STARTTLS.)
	HeloName string
	// TLS is the client TLS configuration; nil means the system roots.
	// ServerName defaults to Host.
	TLS *tls.Config
}

// Mailer sends e-mail outbox messages over SMTP, one connection each.
type Mailer struct {
	composer
	cfg MailerConfig
}

// composer writes outbox messages as RFC 5322 mail from one sender; the
// mailer submits what it writes, the local mailbox keeps it.
type composer struct {
	from  *mail.Address
	clock clock.Clock
}

func newComposer(from string, clk clock.Clock) (composer, error) {
	if from == "" {
		return composer{}, errors.New("smtp: from address is required")
	}
	if strings.ContainsAny(from, "\r\n") {
		return composer{}, errors.New("smtp: from address contains a line break")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return composer{}, fmt.Errorf("smtp: from address %q is not valid: %v", from, err)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return composer{from: addr, clock: clk}, nil
}

// NewMailer checks cfg and returns a Mailer. clk stamps the Date header.
// Its errors never contain the password.
func NewMailer(cfg MailerConfig, clk clock.Clock) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is required")
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultSMTPPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", cfg.Port)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("smtp: timeout must be positive")
	}
	if cfg.StartTLS == "" {
		cfg.StartTLS = StartTLSRequired
	}
	switch cfg.StartTLS {
	case StartTLSRequired, StartTLSOpportunistic:
	case StartTLSOff:
		if !loopbackHost(cfg.Host) && !cfg.AllowInsecure {
			return nil, fmt.Errorf("smtp: starttls is off for %s, which is not this host: mail would cross the network in clear (set allow_insecure to accept that)", cfg.Host)
		}
		if cfg.Username != "" && !loopbackHost(cfg.Host) {
			return nil, fmt.Errorf("smtp: starttls is off for %s: credentials are only sent over TLS or to this host", cfg.Host)
		}
	default:
		return nil, fmt.Errorf("smtp: starttls must be required, opportunistic or off, not %q", cfg.StartTLS)
	}
	c, err := newComposer(cfg.From, clk)
	if err != nil {
		return nil, err
	}
	if cfg.HeloName == "" {
		cfg.HeloName, _ = os.Hostname()
		if cfg.HeloName == "" || strings.ContainsAny(cfg.HeloName, " \r\n") {
			cfg.HeloName = "localhost"
		}
	}
	return &Mailer{composer: c, cfg: cfg}, nil
}

// loopbackHost: "localhost" or a loopback IP. Other names are not resolved
// here; whether a connection really is loopback is checked on the socket.
func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// smtpError is a failure at one step of the conversation. The server's
// reply text is kept for the outbox row; logs get the codes only, since
// replies to RCPT and DATA often quote the recipient's address.
type smtpError struct {
	stage string
	err   error
}

func (e *smtpError) Error() string { return "smtp " + e.stage + ": " + e.err.Error() }
func (e *smtpError) Unwrap() error { return e.err }

func (e *smtpError) LogText() string {
	var se *smtp.SMTPError
	if errors.As(e.err, &se) {
		c := se.EnhancedCode
		if c == smtp.NoEnhancedCode || c == (smtp.EnhancedCode{}) {
			return fmt.Sprintf("smtp %s: server replied %d", e.stage, se.Code)
		}
		return fmt.Sprintf("smtp %s: server replied %d %d.%d.%d", e.stage, se.Code, c[0], c[1], c[2])
	}
	return e.Error()
}

// stageErr wraps err; a 5xx reply to RCPT or DATA is about this message
// and permanent. 5xx elsewhere (AUTH, MAIL FROM) is steward's
// configuration, which an operator can fix, so those are retried.
func stageErr(stage string, err error) error {
	e := &smtpError{stage: stage, err: err}
	var se *smtp.SMTPError
	if (stage == "RCPT" || stage == "DATA") && errors.As(err, &se) && se.Code >= 500 && se.Code < 600 {
		return Permanent(e)
	}
	return e
}

// Send submits one e-mail outbox message.
func (m *Mailer) Send(ctx context.Context, msg store.OutboxMessage) error {
	to, data, err := m.Compose(msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	c, conn, err := m.connect(ctx)
	if err != nil {
		return timeoutErr(ctx, err)
	}
	defer c.Close()
	err = m.submit(c, conn, to, data)
	return timeoutErr(ctx, err)
}

// timeoutErr replaces the "use of closed network connection" that closing
// the socket on timeout causes with the reason.
func timeoutErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !IsPermanent(err) {
		return fmt.Errorf("smtp: conversation aborted: %w", context.Cause(ctx))
	}
	return err
}

// connect dials and, depending on the mode, starts TLS. go-smtp only
// starts TLS on a fresh client and closes the connection when the server
// does not offer it, so opportunistic mode dials again in plain text then.
func (m *Mailer) connect(ctx context.Context) (*smtp.Client, net.Conn, error) {
	tlsCfg := m.cfg.TLS.Clone()
	if tlsCfg == nil {
		tlsCfg = &tls.Config{}
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = m.cfg.Host
	}
	if tlsCfg.MinVersion == 0 {
		tlsCfg.MinVersion = tls.VersionTLS12
	}
	conn, err := m.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	if m.cfg.StartTLS == StartTLSOff {
		return m.client(smtp.NewClient(conn)), conn, nil
	}
	c, err := smtp.NewClientStartTLS(conn, tlsCfg)
	if err == nil {
		return m.client(c), conn, nil
	}
	if m.cfg.StartTLS == StartTLSOpportunistic && err.Error() == errNoStartTLS {
		if conn, err = m.dial(ctx); err != nil {
			return nil, nil, err
		}
		return m.client(smtp.NewClient(conn)), conn, nil
	}
	conn.Close()
	return nil, nil, &smtpError{stage: "STARTTLS", err: err}
}

// errNoStartTLS is go-smtp's (v0.25) error when the server does not offer
// STARTTLS; TestOpportunisticWithoutTLS pins it.
const errNoStartTLS = "smtp: server doesn't support STARTTLS"

// dial connects and ties the socket to ctx: go-smtp sets a deadline per
// command but none while the message is written, so closing the socket
// when ctx ends is what bounds the whole conversation.
func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port)))
	if err != nil {
		return nil, &smtpError{stage: "connect", err: err}
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	return conn, nil
}

func (m *Mailer) client(c *smtp.Client) *smtp.Client {
	c.CommandTimeout, c.SubmissionTimeout = m.cfg.Timeout, m.cfg.Timeout
	return c
}

func (m *Mailer) submit(c *smtp.Client, conn net.Conn, to *mail.Address, data []byte) error {
	if err := c.Hello(m.cfg.HeloName); err != nil {
		return stageErr("EHLO", err)
	}
	_, isTLS := c.TLSConnectionState()
	if m.cfg.Username != "" {
		// Decided on the socket, not the configured name: a name that
		// resolves elsewhere does not count as local.
		if !isTLS && !loopbackAddr(conn.RemoteAddr()) {
			return errors.New("smtp: the server did not offer STARTTLS; credentials are only sent over TLS or to this host")
		}
		if !c.SupportsAuth(sasl.Plain) {
			return errors.New("smtp: the server does not offer AUTH PLAIN")
		}
		if err := c.Auth(sasl.NewPlainClient("", m.cfg.Username, m.cfg.Password)); err != nil {
			return stageErr("AUTH", err)
		}
	}
	var opts *smtp.MailOptions
	if !ascii(m.from.Address) || !ascii(to.Address) {
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(m.from.Address, opts); err != nil {
		return stageErr("MAIL", err)
	}
	if err := c.Rcpt(to.Address, nil); err != nil {
		return stageErr("RCPT", err)
	}
	w, err := c.Data()
	if err != nil {
		return stageErr("DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return stageErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return stageErr("DATA", err)
	}
	c.Quit() // the message is accepted; a failed goodbye changes nothing
	return nil
}

func loopbackAddr(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// maxLine is RFC 5322's limit on a line, without CRLF.
const maxLine = 998

// Compose validates msg and builds the RFC 5322 message: it returns the
// parsed recipient and the bytes for DATA. A recipient or subject that
// could smuggle a header (a line break, a control character) or is not a
// valid address is a permanent error; the error text never repeats it.
func (m *composer) Compose(msg store.OutboxMessage) (*mail.Address, []byte, error) {
	if msg.Kind != store.OutboxEmail {
		return nil, nil, Permanent(fmt.Errorf("smtp: message kind %q is not e-mail", msg.Kind))
	}
	if strings.ContainsAny(msg.To, "\r\n") {
		return nil, nil, Permanent(errors.New("smtp: the recipient address contains a line break"))
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return nil, nil, Permanent(errors.New("smtp: the recipient address is not valid"))
	}
	for _, r := range msg.Subject {
		if r == '\r' || r == '\n' || (r < 0x20 && r != '\t') || r == 0x7f {
			return nil, nil, Permanent(errors.New("smtp: the subject contains a line break or control character"))
		}
	}
	now := m.clock.Now()
	var b bytes.Buffer
	headers := [][2]string{
		{"From", m.from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", msg.Subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", m.MessageID(msg)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
		// RFC 3834: keeps vacation responders from answering.
		{"Auto-Submitted", "auto-generated"},
	}
	for _, h := range headers {
		// The encoders above never emit a line break; this check makes
		// that a guarantee rather than an assumption.
		if strings.ContainsAny(h[1], "\r\n") {
			return nil, nil, Permanent(fmt.Errorf("smtp: the %s header would contain a line break", h[0]))
		}
		line, err := fold(h[0], h[1])
		if err != nil {
			return nil, nil, Permanent(err)
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	body := msg.Body
	if !strings.HasSuffix(body, "\n") {
		// SMTP ends the data with a line break anyway; adding it here keeps
		// the soft-break logic of quoted-printable in charge of it.
		body += "\n"
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, nil, err
	}
	return to, b.Bytes(), nil
}

// MessageID is stable for an outbox message, so every retry (and a resend
// after a crash) carries the same ID and receivers can drop duplicates.
// The creation time keeps IDs of a rebuilt database from colliding with
// earlier ones.
func (m *composer) MessageID(msg store.OutboxMessage) string {
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	if domain == "" || !ascii(domain) || strings.ContainsAny(domain, "<>[] ") {
		domain = "steward.invalid"
	}
	return fmt.Sprintf("<steward.outbox.%d.%s@%s>", msg.ID, strconv.FormatUint(uint64(msg.CreatedAt.UnixMicro()), 36), domain)
}

// fold writes "name: value", breaking lines at spaces so they stay near
// 78 characters (RFC 5322 2.2.3); a header that still has a line longer
// than 998 is refused.
func fold(name, value string) (string, error) {
	s := name + ": " + value
	var b strings.Builder
	lo := len(name) + 2 // never fold right after the colon
	for len(s) > 78 {
		i := strings.LastIndexByte(s[:79], ' ')
		if i < lo {
			i = strings.IndexByte(s[lo:], ' ')
			if i < 0 {
				break
			}
			i += lo
		}
		b.WriteString(s[:i])
		b.WriteString("\r\n")
		s = s[i:] // keeps the space: it is the folding white space
		lo = 1
	}
	b.WriteString(s)
	out := b.String()
	for _, line := range strings.Split(out, "\r\n") {
		if len(line) > maxLine {
			return "", fmt.Errorf("smtp: the %s header is too long", name)
		}
	}
	return out, nil
}
