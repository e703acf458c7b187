package notify

import (
	"path/filepath"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/config"
)

// MailboxDir is the local mailbox's folder in a data directory.
func MailboxDir(dataDir string) string { return filepath.Join(dataDir, "mail") }

// SendersFromConfig builds the senders steward's settings describe, ready
// for Worker.Mail and Worker.Webhook. E-mail goes over SMTP when an smtp
// host is set, and otherwise to the local mailbox in the data directory
// (a *Mailbox), so it is never left waiting for a server nobody set up.
// webhook is a true nil interface when no webhook is configured.
func SendersFromConfig(c *config.Config, clk clock.Clock) (mail, webhook Sender, err error) {
	if c.SMTP.Host != "" {
		m, err := NewMailer(MailerConfig{
			Host: c.SMTP.Host, Port: c.SMTP.Port, From: c.SMTP.From,
			Username: c.SMTP.Username, Password: c.SMTP.Password,
			StartTLS: StartTLS(c.SMTP.StartTLS), AllowInsecure: c.SMTP.AllowInsecure,
			Timeout: c.SMTP.Timeout,
		}, clk)
		if err != nil {
			return nil, nil, err
		}
		mail = m
	} else {
		m, err := NewMailbox(MailboxDir(c.DataDir), c.SMTP.From, clk)
		if err != nil {
			return nil, nil, err
		}
		mail = m
	}
	if len(c.Webhooks) > 0 {
		w, err := NewWebhook(c.Webhooks, 0)
		if err != nil {
			return nil, nil, err
		}
		webhook = w
	}
	return mail, webhook, nil
}
