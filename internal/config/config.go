// Package config reads steward's settings from, in rising precedence, an
// optional YAML file, STEWARD_* environment variables and command-line flags.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config holds every setting of `steward serve` and the commands that share
// its storage.
type Config struct {
	Addr     string
	DataDir  string
	Registry string
	// Policy is the read policy file; empty means the built-in policy with
	// the built-in registry, and a policy that grants nothing otherwise.
	Policy string
	DB     string
	// Secret is the hashing key in hex, from STEWARD_SECRET or the config
	// file's secret:; SecretFile names a file holding it (--secret-file,
	// STEWARD_SECRET_FILE, secret-file:). Both empty means secret.key in
	// DataDir. The key never comes from the command line, which every
	// local user can read (ps); Load refuses --secret.
	Secret         string
	SecretFile     string
	TrustedProxies string
	SecureCookies  bool
	LogLevel       string

	// Rights is the requests settings file (laws, timeouts, connectors).
	Rights string
	// PublicURL is how people reach steward; links in e-mails use it.
	PublicURL string
	// FacebookAppSecret enables the Facebook data-deletion callback.
	FacebookAppSecret string
	// RequestsPerHour limits the public request form per client network.
	RequestsPerHour int

	MaxBody        int64
	MaxBatch       int
	RatePerSecond  float64
	RateBurst      int
	WriteQueue     int
	RetentionEvery time.Duration
	// RegistryPoll is how often a node checks for a registry version
	// published by another node.
	RegistryPoll time.Duration
	// ApproveRegistry, when set, approves a start-up registry file that
	// differs from the approved version without review; it is the reason
	// the history, the version and the review document record.
	ApproveRegistry string
	// ReviewWebhook names a configured webhook that hears every review
	// notification too.
	ReviewWebhook string
	// ExpiryNoticeDays is how many days before an expiry its owner is told.
	ExpiryNoticeDays int
	// IncidentEmail is told of every incident besides the incident_manager
	// accounts (comma-separated addresses).
	IncidentEmail string
	// MonitorPerHour flags a credential reading more subjects within an
	// hour than this (0: only its own baseline counts).
	MonitorPerHour int64
	// ControllerNotice, when set, is the period within which a controller
	// this steward processes for must be told of a breach, from t_l.
	ControllerNotice time.Duration
	// MonitorOff stops this node from running the breach monitor.
	MonitorOff bool
	// MonitorEvery is how long the monitor waits once it has caught up.
	MonitorEvery time.Duration
	// MonitorBatch bounds the entries the monitor checks per transaction.
	MonitorBatch int
	// ErasurePoll is how often a node reads changes to the suppression list
	// of erased subjects made by another node.
	ErasurePoll  time.Duration
	ShutdownWait time.Duration

	// SMTP is the mail server notifications go to; no Host means e-mail
	// is not configured.
	SMTP SMTP
	// Webhooks maps a webhook's name (what outbox messages address) to
	// its URL. Only the config file sets it: the URL is a credential.
	Webhooks map[string]string

	// CheckpointEvery is how often the access log's head is signed and
	// sent to the witness (0: never); CheckpointEntries signs also after
	// that many entries (0: off). CheckpointEmail and CheckpointWebhook
	// (a name under webhooks:) are the witness.
	CheckpointEvery   time.Duration
	CheckpointEntries int64
	CheckpointEmail   string
	CheckpointWebhook string

	// SessionTTL is how long a browser sign-in lasts.
	SessionTTL time.Duration
	// LDAP is the corporate directory staff may sign in with; nil when
	// none is configured. Only the config file's ldap: section sets it.
	LDAP *LDAP
	// PGAudit is the product database's pgaudit log; nil when none is
	// configured. Only the config file's pgaudit: section sets it.
	PGAudit *PGAudit
}

// LDAP mirrors internal/auth/ldap.Config with the config file's key names;
// docs/accounts.md lists them.
type LDAP struct {
	URL            string            `yaml:"url"`
	StartTLS       bool              `yaml:"start_tls"`
	CAFile         string            `yaml:"ca_file"`
	InsecureNoTLS  bool              `yaml:"insecure_no_tls"`
	UserDNTemplate string            `yaml:"user_dn_template"`
	BindDN         string            `yaml:"bind_dn"`
	BindPassword   string            `yaml:"bind_password"`
	UserBase       string            `yaml:"user_base"`
	UserFilter     string            `yaml:"user_filter"`
	GroupBase      string            `yaml:"group_base"`
	GroupFilter    string            `yaml:"group_filter"`
	GroupRoles     map[string]string `yaml:"group_roles"`
	EmailAttr      string            `yaml:"email_attr"`
	NameAttr       string            `yaml:"name_attr"`
	LoginAttr      string            `yaml:"login_attr"`
	Timeout        time.Duration     `yaml:"timeout"`
}

// SMTP holds the settings of internal/notify's Mailer.
type SMTP struct {
	Host string
	Port int
	// From is the sender address, e.g. "Steward <steward@example.org>".
	From     string
	Username string
	// Password comes from the config file or STEWARD_SMTP_PASSWORD, never
	// a flag: command lines are visible to every local user.
	Password string
	// StartTLS is required, opportunistic or off.
	StartTLS      string
	AllowInsecure bool
	Timeout       time.Duration
}

// FlagSet declares every setting on fs and returns the Config they fill.
// Call Load after fs.Parse.
func FlagSet(fs *flag.FlagSet) *Config {
	c := &Config{}
	fs.Var(&configFile{c: c}, "config", "YAML file with settings (keys are the flag names; sections smtp: and webhooks:)")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.DataDir, "data", "./steward-data", "data directory (SQLite database, hashing key)")
	fs.StringVar(&c.Registry, "registry", "", "data registry YAML file (default: the example registry built in)")
	fs.StringVar(&c.Policy, "policy", "", "read policy YAML file (default: the example policy for the built-in registry)")
	fs.StringVar(&c.DB, "db", "", "database: empty for SQLite in the data directory, or a postgres:// DSN")
	fs.StringVar(&c.SecretFile, "secret-file", "", "file holding the hashing key (64+ hex digits, mode 0600; default: secret.key in the data directory); or STEWARD_SECRET; share it among nodes using one database")
	fs.Var(&refusedSecret{}, "secret", "not accepted: a command line is visible to every local user; use --secret-file or STEWARD_SECRET")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is trusted")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark cookies Secure (set when served over HTTPS)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.Rights, "rights", "", "data subject requests settings YAML: laws, timeouts, support contacts, connectors (docs/requests.md)")
	fs.StringVar(&c.PublicURL, "public-url", "", "URL people use to reach steward, for links in e-mails (default: http://ADDR)")
	fs.StringVar(&c.FacebookAppSecret, "facebook-app-secret", "", "not accepted on the command line: set STEWARD_FACEBOOK_APP_SECRET or facebook-app-secret: in the config file; enables POST /callbacks/facebook/data-deletion")
	fs.IntVar(&c.RequestsPerHour, "request-rate", 20, "public request form submissions per hour per client network (0 = no limit)")
	fs.Int64Var(&c.MaxBody, "max-body", 256<<10, "largest collection request body in bytes")
	fs.IntVar(&c.MaxBatch, "max-batch", 100, "most events in one collection request")
	fs.Float64Var(&c.RatePerSecond, "rate", 200, "collection requests per second per client network (0 = no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", 400, "burst allowance for --rate")
	fs.IntVar(&c.WriteQueue, "write-queue", 4096, "collection requests that may wait for a commit before 503")
	fs.DurationVar(&c.RetentionEvery, "retention-every", 10*time.Minute, "how often the retention sweeper runs")
	fs.DurationVar(&c.RegistryPoll, "registry-poll", 2*time.Second, "how often to check for a registry version published by another node")
	fs.StringVar(&c.ApproveRegistry, "approve-registry", "", "approve a --registry file that differs from the approved version without review, for this REASON (recorded as an override)")
	fs.StringVar(&c.ReviewWebhook, "review-webhook", "", "a webhook (named under webhooks: in the config file) that hears every review notification")
	fs.IntVar(&c.ExpiryNoticeDays, "expiry-notice-days", 14, "days before a dataset or field expires that its owner is mailed")
	fs.StringVar(&c.IncidentEmail, "incident-email", "", "addresses (comma-separated) told of every incident besides the incident_manager accounts")
	fs.Int64Var(&c.MonitorPerHour, "monitor-per-hour", 0, "flag a credential that reads more subjects than this within one hour (0: its own baseline only)")
	fs.DurationVar(&c.ControllerNotice, "controller-notice", 0, "period from the first offending access within which the controller must be told (e.g. 1h; 0: no such contract)")
	fs.BoolVar(&c.MonitorOff, "no-monitor", false, "do not run the breach monitor on this node")
	fs.IntVar(&c.MonitorBatch, "monitor-batch", 1000, "access-log entries the breach monitor checks per transaction")
	fs.DurationVar(&c.MonitorEvery, "monitor-every", time.Second, "how often the breach monitor looks for new access-log entries once it has caught up")
	fs.DurationVar(&c.ErasurePoll, "erasure-poll", 2*time.Second, "how often to read erasures made by another node (the longest it may still collect an erased subject)")
	fs.DurationVar(&c.ShutdownWait, "shutdown-wait", 15*time.Second, "how long shutdown waits for requests in flight")
	fs.StringVar(&c.SMTP.Host, "smtp-host", "", "SMTP server for notification e-mail (empty: no e-mail)")
	fs.IntVar(&c.SMTP.Port, "smtp-port", 587, "SMTP server port")
	fs.StringVar(&c.SMTP.From, "smtp-from", "", "sender of notification e-mail, e.g. 'Steward <steward@example.org>'")
	fs.StringVar(&c.SMTP.Username, "smtp-username", "", "SMTP user for AUTH PLAIN (password: STEWARD_SMTP_PASSWORD or the config file)")
	fs.StringVar(&c.SMTP.StartTLS, "smtp-starttls", "required", "STARTTLS: required, opportunistic or off")
	fs.BoolVar(&c.SMTP.AllowInsecure, "smtp-allow-insecure", false, "allow --smtp-starttls off to a host that is not this one")
	fs.DurationVar(&c.SMTP.Timeout, "smtp-timeout", 30*time.Second, "limit on one SMTP conversation")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 8*time.Hour, "how long a browser sign-in lasts")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", time.Hour, "how often to sign the access log's head and send it to the witness (0: never; also at shutdown)")
	fs.Int64Var(&c.CheckpointEntries, "checkpoint-entries", 0, "also sign the head once this many entries follow the last checkpoint (0: off)")
	fs.StringVar(&c.CheckpointEmail, "checkpoint-email", "", "witness: e-mail each signed checkpoint to this address (e.g. the auditor's)")
	fs.StringVar(&c.CheckpointWebhook, "checkpoint-webhook", "", "witness: post each signed checkpoint to this webhook (a name under webhooks: in the config file)")
	return c
}

// configFile is the --config flag. It remembers the Config its FlagSet
// fills, so Load can also set what has no flag (the SMTP password,
// webhooks).
type configFile struct {
	path string
	c    *Config
}

func (f *configFile) String() string {
	if f == nil {
		return ""
	}
	return f.path
}

func (f *configFile) Set(v string) error { f.path = v; return nil }

// smtpPasswordEnv and ldapPasswordEnv are the only ways besides the file
// to give those passwords; secretEnv the hashing key's.
const (
	smtpPasswordEnv = "STEWARD_SMTP_PASSWORD"
	ldapPasswordEnv = "STEWARD_LDAP_BIND_PASSWORD"
	secretEnv       = "STEWARD_SECRET"
)

// refusedSecret is --secret, declared only to be refused with a useful
// line. It parses as a boolean flag, so "--secret VALUE" leaves VALUE as
// an argument instead of handing it to Set: the flag package quotes a
// value Set refuses, and this one is the key. Load reports it.
type refusedSecret struct{}

func (*refusedSecret) String() string   { return "" }
func (*refusedSecret) Set(string) error { return nil }
func (*refusedSecret) IsBoolFlag() bool { return true }
func (*refusedSecret) Get() any         { return nil }

var errSecretFlag = errors.New("--secret would show the hashing key to every local user (ps); put the key in a file given with --secret-file PATH, or set STEWARD_SECRET")

var errFacebookFlag = errors.New("--facebook-app-secret would show the Facebook app secret to every local user (ps); set STEWARD_FACEBOOK_APP_SECRET or facebook-app-secret: in the config file")

// Load applies the config file and environment to every flag not given on
// the command line. getenv is os.Getenv outside tests.
func Load(fs *flag.FlagSet, getenv func(string) string) error {
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	cf, _ := fs.Lookup("config").Value.(*configFile)
	if cf == nil {
		return errors.New("config: Load needs a FlagSet declared with FlagSet")
	}
	if explicit["secret"] {
		return errSecretFlag
	}
	if explicit["facebook-app-secret"] {
		return errFacebookFlag
	}
	path := cf.path
	if path == "" && !explicit["config"] {
		path = getenv("STEWARD_CONFIG")
	}
	if path != "" {
		if err := applyFile(fs, cf.c, path, explicit); err != nil {
			return err
		}
	}
	if v := getenv(smtpPasswordEnv); v != "" {
		cf.c.SMTP.Password = v
	}
	if v := getenv(ldapPasswordEnv); v != "" {
		if cf.c.LDAP == nil {
			return fmt.Errorf("%s is set but the config file has no ldap: section", ldapPasswordEnv)
		}
		cf.c.LDAP.BindPassword = v
	}
	// The key's source, in the usual precedence: --secret-file, then the
	// environment, then the config file (applyFile set what it names).
	// Two ways at one level is refused rather than one guessed.
	envKey, envFile := getenv(secretEnv), getenv("STEWARD_SECRET_FILE")
	switch {
	case explicit["secret-file"]:
		cf.c.Secret = ""
	case envKey != "" && envFile != "":
		return fmt.Errorf("both %s and STEWARD_SECRET_FILE are set; give the hashing key one way", secretEnv)
	case envKey != "":
		cf.c.Secret, cf.c.SecretFile = envKey, "" // over the config file's secret-file:
	case envFile != "":
		cf.c.Secret = ""
	case cf.c.Secret != "" && cf.c.SecretFile != "":
		return fmt.Errorf("%s: both secret: and secret-file: are set; give the hashing key one way", path)
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if explicit[f.Name] || f.Name == "config" || f.Name == "secret" {
			return
		}
		env := "STEWARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

// applyFile sets every flag the file names and the command line did not.
// Top-level keys are flag names; the smtp: section's keys are the smtp-*
// flags (with _ for -) plus password, and webhooks: maps names to URLs.
func applyFile(fs *flag.FlagSet, c *Config, path string, explicit map[string]bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]yaml.Node
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: not valid YAML: %v", path, err)
	}
	set := func(key, flagName string, v *yaml.Node) error {
		f := fs.Lookup(flagName)
		if f == nil || flagName == "config" {
			return fmt.Errorf("%s: unknown setting %q", path, key)
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: %s: expected a single value", path, key)
		}
		if explicit[flagName] {
			return nil
		}
		if err := fs.Set(flagName, scalar(v)); err != nil {
			return fmt.Errorf("%s: %s: %v", path, key, err)
		}
		return nil
	}
	for k, v := range m {
		if (k == "smtp" || k == "webhooks" || k == "ldap" || k == "pgaudit") && v.Tag == "!!null" {
			continue // an empty section
		}
		switch k {
		case "smtp":
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("%s: smtp: expected a mapping (host:, port:, from: …)", path)
			}
			var sec map[string]yaml.Node
			if err := v.Decode(&sec); err != nil {
				return fmt.Errorf("%s: smtp: %v", path, err)
			}
			for sk, sv := range sec {
				if sk == "password" {
					if sv.Kind != yaml.ScalarNode {
						return fmt.Errorf("%s: smtp.password: expected a single value", path)
					}
					c.SMTP.Password = scalar(&sv)
					continue
				}
				name := "smtp-" + strings.ReplaceAll(sk, "_", "-")
				if _, dup := m[name]; dup {
					return fmt.Errorf("%s: %s is set twice (as smtp.%s too)", path, name, sk)
				}
				if err := set("smtp."+sk, name, &sv); err != nil {
					return err
				}
			}
		case "ldap":
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("%s: ldap: expected a mapping (url:, user_dn_template:, group_roles: …)", path)
			}
			var l LDAP
			if err := decodeStrict(&v, &l); err != nil {
				return fmt.Errorf("%s: ldap: %v", path, err)
			}
			c.LDAP = &l
		case "pgaudit":
			p, err := pgauditSection(path, &v)
			if err != nil {
				return err
			}
			c.PGAudit = p
		case "secret":
			// The key in the file (private like secret.key, then): a
			// file is not on the command line.
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: secret: expected a single value", path)
			}
			c.Secret = scalar(&v)
		case "webhooks":
			var hooks map[string]string
			if err := v.Decode(&hooks); err != nil || v.Kind != yaml.MappingNode {
				// No YAML detail: it could quote a URL.
				return fmt.Errorf("%s: webhooks: expected a mapping of names to URLs", path)
			}
			c.Webhooks = hooks
		default:
			if err := set(k, k, &v); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeStrict decodes n into out, refusing keys out does not have, so a
// misspelt setting is an error instead of silently ignored.
func decodeStrict(n *yaml.Node, out any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	return d.Decode(out)
}

// scalar is a YAML scalar's text as written (so a hex secret of digits
// stays a string), with null as "".
func scalar(n *yaml.Node) string {
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}
