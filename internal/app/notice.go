package app

import (
	"net/url"
	"strings"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/collect"
	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/rights"
)

// buildNotice assembles the privacy notice and the records of processing
// from the same registry source, read policy, connectors and consent
// signals that collection and reads obey.
func (a *App) buildNotice() error {
	langs, err := notice.LoadLanguages()
	if err != nil {
		return err
	}
	a.Languages = langs
	cfg, rc := a.Config, a.Rights.Config
	systems := make([]notice.System, len(a.Connectors.Declared))
	for i, d := range a.Connectors.Declared {
		systems[i] = notice.System{Name: d.Name, Kind: d.Kind, Label: d.Label, Location: d.Location, Safeguards: d.Safeguards}
	}
	a.Notice = &notice.Service{Registry: a.Registry, Policy: a.Policy, Versions: a.Store, Log: a.Log,
		Settings: notice.Inputs{
			Systems: systems, OptOut: consent.Honoured(), ReceiveRound: collect.DefaultReceiveRound,
			TrustedProxies:   strings.TrimSpace(cfg.TrustedProxies) != "",
			RateLimited:      cfg.RatePerSecond > 0,
			AccessLogReaders: roleNames(accesslog.Readers), RequestWorkers: roleNames(rights.Workers),
			Grace: rc.Grace, SupportNotified: rc.SupportEmail != "" || rc.SupportWebhook != "",
		},
		Measures: notice.Measures{
			Database: a.Store.Backend(), DatabaseTLS: databaseTLS(cfg.DB),
			HTTPS:      strings.HasPrefix(PublicURL(cfg), "https://"),
			MailServer: cfg.SMTP.Host, MailTLS: cfg.SMTP.StartTLS,
			RetentionEvery: cfg.RetentionEvery, CheckpointEvery: cfg.CheckpointEvery,
			Witness: cfg.CheckpointEmail != "" || cfg.CheckpointWebhook != "",
		}}
	return nil
}

func roleNames(rs []auth.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// databaseTLS reads the sslmode of a PostgreSQL DSN (URL or key=value
// form). libpq's default, prefer, falls back to plain text, so only
// require and the verify modes count as encrypted.
func databaseTLS(dsn string) string {
	if dsn == "" {
		return "local"
	}
	mode := ""
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		mode = u.Query().Get("sslmode")
	} else {
		for _, kv := range strings.Fields(dsn) {
			if k, v, ok := strings.Cut(kv, "="); ok && k == "sslmode" {
				mode = strings.Trim(v, `'"`)
			}
		}
	}
	switch mode {
	case "require":
		return "required"
	case "verify-ca", "verify-full":
		return "verified"
	}
	return "off"
}
