package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/store"
)

// DefaultMailboxFrom is the sender of mail kept in the local mailbox when
// no --smtp-from is set.
const DefaultMailboxFrom = "steward <steward@localhost>"

// Mailbox is the e-mail sender of a steward with no SMTP server: each
// message is kept as an .eml file in a folder of the data directory, so a
// new installation can follow its own mail (a request's confirmation link)
// before it has a mail server, and nothing claims a message reached a
// person when it only reached this folder. A message is on disk, synced,
// before the worker marks it sent; a resend after a crash rewrites the
// same file, so the mailbox holds each message once.
//
// The files hold the mail as a recipient would get it, links included:
// they are private to steward's user (0600 in a 0700 folder), like the
// hashing key beside them.
type Mailbox struct {
	composer
	Dir string
}

// NewMailbox keeps mail in dir, sent as from (DefaultMailboxFrom when
// empty). The folder is made at the first message.
func NewMailbox(dir, from string, clk clock.Clock) (*Mailbox, error) {
	if from == "" {
		from = DefaultMailboxFrom
	}
	c, err := newComposer(from, clk)
	if err != nil {
		return nil, err
	}
	return &Mailbox{composer: c, Dir: dir}, nil
}

// Send writes msg to the mailbox and returns once it is durable.
func (m *Mailbox) Send(ctx context.Context, msg store.OutboxMessage) error {
	_, data, err := m.Compose(msg)
	if err != nil {
		return err
	}
	if err := writeDurably(m.Dir, mailFileName(msg), data); err != nil {
		return fmt.Errorf("local mailbox: %w", err)
	}
	return nil
}

// mailFileName sorts by creation and names the outbox message, so a
// resend of one message is the same file.
func mailFileName(msg store.OutboxMessage) string {
	return msg.CreatedAt.UTC().Format("20060102T150405.000000Z") + "-" + strconv.FormatInt(msg.ID, 10) + ".eml"
}

var mailFileRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-([0-9]{1,19})\.eml$`)

// writeDurably writes a file whole or not at all: a temporary file, synced,
// renamed over the name, and the folder synced so the rename survives a
// power cut.
func writeDurably(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".incoming-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// MailboxEntry is one message in the local mailbox.
type MailboxEntry struct {
	// ID is the outbox message's id, which `steward mail show` takes.
	ID      int64
	File    string
	Date    time.Time
	From    string
	To      string
	Subject string
}

// MailboxMessage is a message with its text decoded for reading.
type MailboxMessage struct {
	MailboxEntry
	Body string
	// Raw is the file as stored (RFC 5322, quoted-printable).
	Raw []byte
}

// ErrNoMail is returned for a message the mailbox does not hold.
var ErrNoMail = errors.New("no such message in the local mailbox")

// ListMailbox returns the messages in dir, oldest first. A folder that
// does not exist yet is an empty mailbox.
func ListMailbox(dir string) ([]MailboxEntry, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("local mailbox: %w", err)
	}
	var out []MailboxEntry
	for _, de := range des {
		if !de.Type().IsRegular() || !mailFileRE.MatchString(de.Name()) {
			continue
		}
		m, err := readMail(dir, de.Name(), false)
		if err != nil {
			return nil, err
		}
		out = append(out, m.MailboxEntry)
	}
	// The names sort by creation; two messages created in one microsecond
	// sort by id.
	slices.SortStableFunc(out, func(a, b MailboxEntry) int {
		if c := strings.Compare(a.File[:23], b.File[:23]); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// ReadMailbox returns one message: ref is its id (as ListMailbox gives
// it), "latest" for the newest, or its file name.
func ReadMailbox(dir, ref string) (MailboxMessage, error) {
	list, err := ListMailbox(dir)
	if err != nil {
		return MailboxMessage{}, err
	}
	var found []MailboxEntry
	switch {
	case ref == "latest":
		if len(list) > 0 {
			found = list[len(list)-1:]
		}
	case mailFileRE.MatchString(ref):
		for _, e := range list {
			if e.File == ref {
				found = append(found, e)
			}
		}
	default:
		id, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || id < 1 {
			return MailboxMessage{}, fmt.Errorf("%q is not a message id: give the number steward mail list shows, latest, or a file name", ref)
		}
		for _, e := range list {
			if e.ID == id {
				found = append(found, e)
			}
		}
	}
	switch len(found) {
	case 0:
		return MailboxMessage{}, ErrNoMail
	case 1:
		return readMail(dir, found[0].File, true)
	}
	// Only after the database was rebuilt: ids then start again.
	names := make([]string, len(found))
	for i, e := range found {
		names[i] = e.File
	}
	return MailboxMessage{}, fmt.Errorf("%d messages have id %s (%s); name the file instead", len(found), ref, strings.Join(names, ", "))
}

// maxMailFile bounds what is read of one file; steward's own mail is a few
// kilobytes.
const maxMailFile = 1 << 20

func readMail(dir, name string, body bool) (MailboxMessage, error) {
	m := MailboxMessage{MailboxEntry: MailboxEntry{File: name}}
	if sub := mailFileRE.FindStringSubmatch(name); sub != nil {
		m.ID, _ = strconv.ParseInt(sub[1], 10, 64)
	}
	raw, err := readLimited(filepath.Join(dir, name), maxMailFile)
	if err != nil {
		return m, fmt.Errorf("local mailbox: %w", err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m, fmt.Errorf("local mailbox: %s is not an e-mail message: %v", name, err)
	}
	var dec mime.WordDecoder
	m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		m.Subject = msg.Header.Get("Subject")
	}
	m.From, m.To = readable(msg.Header.Get("From")), readable(msg.Header.Get("To"))
	m.Date, _ = msg.Header.Date()
	if !body {
		return m, nil
	}
	m.Raw = raw
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	text, err := io.ReadAll(r)
	if err != nil {
		return m, fmt.Errorf("local mailbox: %s: the text cannot be decoded: %v", name, err)
	}
	m.Body = strings.ReplaceAll(string(text), "\r\n", "\n")
	return m, nil
}

// readable writes an address header as people do: Zoë <zoe@example.org>,
// or the bare address when it has no name.
func readable(h string) string {
	a, err := mail.ParseAddress(h)
	if err != nil {
		return h
	}
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

func readLimited(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), n)
	}
	return b, nil
}
