package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(file, []byte("addr: 127.0.0.1:9000\ndata: /from/file\nrate: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"STEWARD_DATA": "/from/env", "STEWARD_RATE": "7"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := FlagSet(fs)
	if err := fs.Parse([]string{"--config", file, "--rate", "9"}); err != nil {
		t.Fatal(err)
	}
	if err := Load(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DataDir != "/from/env" || c.RatePerSecond != 9 {
		t.Fatalf("precedence wrong: %+v", c)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("adr: x\n"), 0o600)
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"unknown key in file": {[]string{"--config", bad}, nil},
		"missing file":        {[]string{"--config", filepath.Join(dir, "nope.yaml")}, nil},
		"bad env value":       {nil, map[string]string{"STEWARD_RATE": "fast"}},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		FlagSet(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := Load(fs, func(k string) string { return tc.env[k] }); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSections(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "steward.yaml")
	yaml := `addr: 127.0.0.1:9000
secret: 0123456789012345678901234567890123456789012345678901234567890123
smtp:
  host: mail.example.org
  port: 2525
  from: Steward <steward@example.org>
  username: steward
  password: from-file
  starttls: opportunistic
  allow_insecure: true
  timeout: 5s
webhooks:
  ops: https://hooks.example.net/services/T0/B0/x
  privacy-team: https://hooks.example.net/services/T0/B1/y
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := FlagSet(fs)
	if err := fs.Parse([]string{"--config", file, "--smtp-port", "25"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"STEWARD_SMTP_FROM": "Other <other@example.org>", "STEWARD_SMTP_PASSWORD": "from-env"}
	if err := Load(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := SMTP{Host: "mail.example.org", Port: 25, From: "Other <other@example.org>", Username: "steward", Password: "from-env",
		StartTLS: "opportunistic", AllowInsecure: true, Timeout: 5 * time.Second}
	if c.SMTP != want {
		t.Fatalf("smtp:\n%+v\nwant\n%+v", c.SMTP, want)
	}
	if len(c.Webhooks) != 2 || c.Webhooks["privacy-team"] != "https://hooks.example.net/services/T0/B1/y" {
		t.Fatalf("webhooks: %v", c.Webhooks)
	}
	// A hex key of digits only stays the string it was written as.
	if c.Addr != "127.0.0.1:9000" || c.Secret != "0123456789012345678901234567890123456789012345678901234567890123" {
		t.Fatalf("flat keys: %q %q", c.Addr, c.Secret)
	}

	// Without the env, the file's password counts; defaults stay when the
	// file has no smtp section.
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	c = FlagSet(fs)
	fs.Parse([]string{"--config", file})
	if err := Load(fs, func(string) string { return "" }); err != nil || c.SMTP.Password != "from-file" || c.SMTP.Port != 2525 {
		t.Fatalf("%v %+v", err, c.SMTP)
	}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	c = FlagSet(fs)
	fs.Parse(nil)
	if err := Load(fs, func(string) string { return "" }); err != nil || c.SMTP.Port != 587 || c.SMTP.StartTLS != "required" || c.SMTP.Timeout != 30*time.Second || c.Webhooks != nil {
		t.Fatalf("defaults: %v %+v %v", err, c.SMTP, c.Webhooks)
	}
}

func TestBadSections(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown smtp key":     "smtp:\n  hots: x\n",
		"smtp not a mapping":   "smtp: mail.example.org\n",
		"smtp set twice":       "smtp-host: a\nsmtp:\n  host: b\n",
		"bad port":             "smtp:\n  port: many\n",
		"webhooks not a map":   "webhooks: https://hooks.example.net/services/SECRET\n",
		"webhook not a string": "webhooks:\n  ops:\n    url: https://hooks.example.net/services/SECRET\n",
		"flat key as mapping":  "addr:\n  host: x\n",
	} {
		file := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		FlagSet(fs)
		fs.Parse([]string{"--config", file})
		err := Load(fs, func(string) string { return "" })
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error quotes a webhook URL: %v", name, err)
		}
	}
	file := filepath.Join(dir, "empty.yaml")
	os.WriteFile(file, []byte("smtp:\nwebhooks:\n"), 0o600)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	FlagSet(fs)
	fs.Parse([]string{"--config", file})
	if err := Load(fs, func(string) string { return "" }); err != nil {
		t.Errorf("empty sections: %v", err)
	}
}

func TestLDAPSection(t *testing.T) {
	dir := t.TempDir()
	load := func(body string, env map[string]string) (*Config, error) {
		file := filepath.Join(dir, "c.yaml")
		_ = os.WriteFile(file, []byte(body), 0o600)
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c := FlagSet(fs)
		if err := fs.Parse([]string{"--config", file}); err != nil {
			t.Fatal(err)
		}
		return c, Load(fs, func(k string) string { return env[k] })
	}
	c, err := load("session-ttl: 2h\nldap:\n  url: ldaps://ldap.example.org\n  user_dn_template: uid=%s,ou=people,dc=example,dc=org\n  group_roles: {steward-support: support}\n  timeout: 3s\n",
		map[string]string{"STEWARD_LDAP_BIND_PASSWORD": "from-env"})
	if err != nil {
		t.Fatal(err)
	}
	if c.LDAP == nil || c.LDAP.URL != "ldaps://ldap.example.org" || c.LDAP.GroupRoles["steward-support"] != "support" ||
		c.LDAP.Timeout != 3*time.Second || c.LDAP.BindPassword != "from-env" || c.SessionTTL != 2*time.Hour {
		t.Fatalf("ldap section: %+v", c.LDAP)
	}
	for body, want := range map[string]string{
		"ldap:\n  urll: ldaps://x\n": "urll",
		"ldap: [1]\n":                "expected a mapping",
		"ldap:\n  timeout: soon\n":   "ldap",
	} {
		if _, err := load(body, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", body, err, want)
		}
	}
	if _, err := load("addr: x\n", map[string]string{"STEWARD_LDAP_BIND_PASSWORD": "p"}); err == nil {
		t.Error("a bind password without an ldap: section was accepted")
	}
}

// TestSecretNeverOnTheCommandLine: a command line is visible to every
// local user (ps, /proc), so the hashing key comes from a file or the
// environment; --secret is refused without repeating the value.
func TestSecretNeverOnTheCommandLine(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	load := func(args []string, env map[string]string, file string) (*Config, []string, error) {
		t.Helper()
		if file != "" {
			path := filepath.Join(dir, "steward.yaml")
			if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append([]string{"--config", path}, args...)
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c := FlagSet(fs)
		if err := fs.Parse(args); err != nil {
			return c, nil, err
		}
		return c, fs.Args(), Load(fs, func(k string) string { return env[k] })
	}

	for _, args := range [][]string{{"--secret", key}, {"--secret=" + key}, {"-secret", key, "--addr", "x"}, {"--addr", "x", "--secret", key}} {
		_, _, err := load(args, nil, "")
		if err == nil {
			t.Errorf("%q: accepted", args)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, key) || strings.Contains(msg, key[:8]) || strings.Contains(msg, "\n") ||
			!strings.Contains(msg, "--secret-file") || !strings.Contains(msg, "STEWARD_SECRET") {
			t.Errorf("%q: error %q, want one line naming --secret-file and STEWARD_SECRET, without the key", args, msg)
		}
	}

	for name, tc := range map[string]struct {
		args      []string
		env       map[string]string
		file      string
		key, path string
	}{
		"flag":                      {args: []string{"--secret-file", keyFile}, path: keyFile},
		"environment":               {env: map[string]string{"STEWARD_SECRET": key}, key: key},
		"environment, a file":       {env: map[string]string{"STEWARD_SECRET_FILE": keyFile}, path: keyFile},
		"config file":               {file: "secret: " + key + "\n", key: key},
		"config file, a file":       {file: "secret-file: " + keyFile + "\n", path: keyFile},
		"flag over environment":     {args: []string{"--secret-file", keyFile}, env: map[string]string{"STEWARD_SECRET": key}, path: keyFile},
		"environment over file":     {env: map[string]string{"STEWARD_SECRET": key}, file: "secret-file: " + keyFile + "\n", key: key},
		"file over the data folder": {file: "secret-file: " + keyFile + "\n", path: keyFile},
		"default: the data folder":  {},
	} {
		c, _, err := load(tc.args, tc.env, tc.file)
		if err != nil || c.Secret != tc.key || c.SecretFile != tc.path {
			t.Errorf("%s: key %q, file %q, err %v; want key %q, file %q", name, c.Secret, c.SecretFile, err, tc.key, tc.path)
		}
	}

	// Two ways at one level is a mistake, not a guess.
	for name, tc := range map[string]struct {
		env  map[string]string
		file string
	}{
		"environment": {env: map[string]string{"STEWARD_SECRET": key, "STEWARD_SECRET_FILE": keyFile}},
		"config file": {file: "secret: " + key + "\nsecret-file: " + keyFile + "\n"},
	} {
		if _, _, err := load(nil, tc.env, tc.file); err == nil || strings.Contains(err.Error(), key) {
			t.Errorf("%s: both a key and a key file: %v", name, err)
		}
	}
}

// TestFacebookSecretNeverOnTheCommandLine: the app secret signs Facebook's
// deletion callbacks, so like the hashing key it comes from the
// environment or the config file only.
func TestFacebookSecretNeverOnTheCommandLine(t *testing.T) {
	const secret = "fb-0123456789abcdef"
	parse := func(args []string, env map[string]string) (*Config, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c := FlagSet(fs)
		if err := fs.Parse(args); err != nil {
			return c, err
		}
		return c, Load(fs, func(k string) string { return env[k] })
	}
	_, err := parse([]string{"--facebook-app-secret", secret}, nil)
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "STEWARD_FACEBOOK_APP_SECRET") {
		t.Fatalf("command line: %v", err)
	}
	c, err := parse(nil, map[string]string{"STEWARD_FACEBOOK_APP_SECRET": secret})
	if err != nil || c.FacebookAppSecret != secret {
		t.Fatalf("environment: %q %v", c.FacebookAppSecret, err)
	}
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte("facebook-app-secret: "+secret+"\n"), 0o600)
	c, err = parse([]string{"--config", path}, nil)
	if err != nil || c.FacebookAppSecret != secret {
		t.Fatalf("config file: %q %v", c.FacebookAppSecret, err)
	}
}
