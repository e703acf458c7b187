// Package config reads steward's settings from, in rising precedence, an
// optional YAML file, STEWARD_* environment variables and command-line flags.
package config

import (
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
	// Secret is the hashing key in hex; empty means the key file in DataDir.
	Secret         string
	TrustedProxies string
	SecureCookies  bool
	LogLevel       string

	// Rights is the requests settings file (laws, timeouts, connectors).
	Rights string
	// PublicURL is how people reach steward; links in e-mails use it.
	PublicURL string
	// FacebookAppSecret enables the Facebook data-deletion callback.
	FacebookAppSecret string

	MaxBody        int64
	MaxBatch       int
	RatePerSecond  float64
	RateBurst      int
	WriteQueue     int
	RetentionEvery time.Duration
	ShutdownWait   time.Duration
}

// FlagSet declares every setting on fs and returns the Config they fill.
// Call Load after fs.Parse.
func FlagSet(fs *flag.FlagSet) *Config {
	c := &Config{}
	fs.String("config", "", "YAML file with settings (keys are the flag names)")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.DataDir, "data", "./steward-data", "data directory (SQLite database, hashing key)")
	fs.StringVar(&c.Registry, "registry", "", "data registry YAML file (default: the example registry built in)")
	fs.StringVar(&c.Policy, "policy", "", "read policy YAML file (default: the example policy for the built-in registry)")
	fs.StringVar(&c.DB, "db", "", "database: empty for SQLite in the data directory, or a postgres:// DSN")
	fs.StringVar(&c.Secret, "secret", "", "hashing key as hex (64+ digits); share it among nodes using one database")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is trusted")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark cookies Secure (set when served over HTTPS)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.Rights, "rights", "", "data subject requests settings YAML: laws, timeouts, support contacts, connectors (docs/requests.md)")
	fs.StringVar(&c.PublicURL, "public-url", "", "URL people use to reach steward, for links in e-mails (default: http://ADDR)")
	fs.StringVar(&c.FacebookAppSecret, "facebook-app-secret", "", "Facebook app secret; enables POST /callbacks/facebook/data-deletion")
	fs.Int64Var(&c.MaxBody, "max-body", 256<<10, "largest collection request body in bytes")
	fs.IntVar(&c.MaxBatch, "max-batch", 100, "most events in one collection request")
	fs.Float64Var(&c.RatePerSecond, "rate", 200, "collection requests per second per client network (0 = no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", 400, "burst allowance for --rate")
	fs.IntVar(&c.WriteQueue, "write-queue", 4096, "collection requests that may wait for a commit before 503")
	fs.DurationVar(&c.RetentionEvery, "retention-every", 10*time.Minute, "how often the retention sweeper runs")
	fs.DurationVar(&c.ShutdownWait, "shutdown-wait", 15*time.Second, "how long shutdown waits for requests in flight")
	return c
}

// Load applies the config file and environment to every flag not given on
// the command line. getenv is os.Getenv outside tests.
func Load(fs *flag.FlagSet, getenv func(string) string) error {
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	path := fs.Lookup("config").Value.String()
	if path == "" && !explicit["config"] {
		path = getenv("STEWARD_CONFIG")
	}
	if path != "" {
		if err := applyFile(fs, path, explicit); err != nil {
			return err
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if explicit[f.Name] || f.Name == "config" {
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

func applyFile(fs *flag.FlagSet, path string, explicit map[string]bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: not valid YAML: %v", path, err)
	}
	for k, v := range m {
		f := fs.Lookup(k)
		if f == nil || k == "config" {
			return fmt.Errorf("%s: unknown setting %q", path, k)
		}
		if explicit[k] {
			continue
		}
		if err := fs.Set(k, fmt.Sprint(v)); err != nil {
			return fmt.Errorf("%s: %s: %v", path, k, err)
		}
	}
	return nil
}
