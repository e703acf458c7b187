package notify

import (
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/config"
)

// SendersFromConfig builds the senders steward's settings describe, ready
// for Worker.Mail and Worker.Webhook. Each is nil (a true nil interface)
// when its kind is not configured: no smtp host, no webhooks.
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
