package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
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
