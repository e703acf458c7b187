package rights

import (
	"fmt"
	"time"
)

// Law is a statute's deadline for answering a request.
type Law struct {
	// Months and Days make the due date: GDPR counts one month, CCPA 45
	// days.
	Months, Days int
	// ExtendMonths and ExtendDays is the one extension allowed, with a
	// reason (GDPR two months, CCPA 45 days).
	ExtendMonths, ExtendDays int
}

// Due is the deadline for a request received at t.
func (l Law) Due(t time.Time) time.Time { return t.AddDate(0, l.Months, l.Days) }

// Extended is the deadline after the extension.
func (l Law) Extended(due time.Time) time.Time { return due.AddDate(0, l.ExtendMonths, l.ExtendDays) }

// Words says the time the law gives, for people: "one month", "45 days".
func (l Law) Words() string { return span(l.Months, l.Days) }

// ExtensionWords says the extension the law allows ("" for none).
func (l Law) ExtensionWords() string { return span(l.ExtendMonths, l.ExtendDays) }

func span(months, days int) string {
	count := func(n int, unit string) string {
		switch n {
		case 1:
			return "one " + unit
		case 2:
			return "two " + unit + "s"
		case 3:
			return "three " + unit + "s"
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case months > 0 && days > 0:
		return count(months, "month") + " and " + count(days, "day")
	case months > 0:
		return count(months, "month")
	case days > 0:
		return count(days, "day")
	}
	return ""
}

// Config holds the rules requests follow.
type Config struct {
	// PublicURL is where people reach steward (links in e-mails).
	PublicURL  string
	Laws       map[string]Law
	DefaultLaw string
	// ConfirmWithin: an unconfirmed request is rejected after it.
	ConfirmWithin time.Duration
	// AnswerWithin: a question left unanswered rejects the request.
	AnswerWithin time.Duration
	// Grace is the time between deactivation and purge.
	Grace time.Duration
	// ExportTTL is how long an access archive stays downloadable.
	ExportTTL time.Duration
	// ExportDir holds access archives until they expire.
	ExportDir string
	// SupportEmail and SupportWebhook are told of every received request.
	SupportEmail   string
	SupportWebhook string
	// Controller names who answers, in e-mails.
	Controller string
}

// DefaultConfig is GDPR and CCPA as written, 30-day timeouts and grace.
func DefaultConfig(publicURL string) Config {
	return Config{
		PublicURL: publicURL,
		Laws: map[string]Law{
			"gdpr": {Months: 1, ExtendMonths: 2},
			"ccpa": {Days: 45, ExtendDays: 45},
		},
		DefaultLaw:    "gdpr",
		ConfirmWithin: 30 * 24 * time.Hour,
		AnswerWithin:  30 * 24 * time.Hour,
		Grace:         30 * 24 * time.Hour,
		ExportTTL:     7 * 24 * time.Hour,
		Controller:    "steward",
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if _, ok := c.Laws[c.DefaultLaw]; !ok {
		return fmt.Errorf("default law %q is not among the configured laws", c.DefaultLaw)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"confirm_within", c.ConfirmWithin}, {"answer_within", c.AnswerWithin}, {"export_ttl", c.ExportTTL}} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive", d.name)
		}
	}
	if c.Grace < 0 {
		return fmt.Errorf("grace must not be negative")
	}
	return nil
}
