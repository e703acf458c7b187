package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/rights"
)

// TestReceiptVerify: `steward receipt verify` needs the receipt file and
// the published key, nothing else (no data folder, no config), accepts
// the key as PEM, JWK or base64, and refuses an altered receipt, another
// key and a file that is not a receipt with one line and exit 1.
func TestReceiptVerify(t *testing.T) {
	keyer, err := minimise.NewKeyer([]byte("a test hashing key of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := minimise.NewKeyer([]byte("another hashing key of at least thirty-two bytes"))
	at := time.Date(2026, 12, 22, 12, 0, 0, 0, time.UTC)
	rc := rights.Receipt{Version: 1, RequestID: "r-aaaaaaaaaaaaaaaa", Type: rights.Erasure, Subject: "k", Received: at.AddDate(0, -1, 0), CompletedAt: at,
		Steps: []rights.ReceiptStep{{System: "app_db", Label: "Your account in the Example app", Phase: rights.PhasePurge, Done: "users: overwrote 1 rows", Count: 1, FinishedAt: at}}}
	file, err := rights.ReceiptFileOf(rights.SignReceipt(rights.SigningKey(keyer), rc), "https://steward.example.org"+rights.ReceiptKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	pub := rights.SigningKey(keyer).Public().(ed25519.PublicKey)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	receipt := write("r-aaaaaaaaaaaaaaaa-receipt.json", file)
	keys := map[string]string{
		"pem":    write("key.pem", rights.PublicKeyPEM(pub)),
		"jwk":    write("key.jwk", rights.PublicKeyJWK(pub)),
		"base64": write("key.txt", []byte(base64.StdEncoding.EncodeToString(pub)+"\n")),
	}
	// Run from an empty folder with no steward settings in reach.
	t.Chdir(t.TempDir())
	for name, key := range keys {
		for _, args := range [][]string{{"receipt", "verify", receipt, "--public-key", key}, {"receipt", "verify", "--public-key", key, receipt}} {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("%s key, %v: exit %d: %s", name, args, code, errOut.String())
			}
			if !strings.Contains(out.String(), "signature valid: the receipt of request r-aaaaaaaaaaaaaaaa") ||
				!strings.Contains(out.String(), "Your account in the Example app") {
				t.Fatalf("%s key: %s", name, out.String())
			}
		}
	}
	signed, _ := base64.StdEncoding.DecodeString(between(string(file), `"receipt": "`, `"`))
	altered := bytes.Replace(file, []byte(base64.StdEncoding.EncodeToString(signed)),
		[]byte(base64.StdEncoding.EncodeToString(bytes.Replace(signed, []byte(`"count":1`), []byte(`"count":0`), 1))), 1)
	for name, c := range map[string]struct {
		args []string
		code int
		want string
	}{
		"altered":       {[]string{"receipt", "verify", write("altered.json", altered), "--public-key", keys["pem"]}, 1, "it was altered"},
		"another key":   {[]string{"receipt", "verify", receipt, "--public-key", write("other.pem", rights.PublicKeyPEM(rights.SigningKey(other).Public().(ed25519.PublicKey)))}, 1, "another key"},
		"not a key":     {[]string{"receipt", "verify", receipt, "--public-key", receipt}, 1, "--public-key"},
		"not a receipt": {[]string{"receipt", "verify", keys["pem"], "--public-key", keys["pem"]}, 1, "not JSON"},
		"no key":        {[]string{"receipt", "verify", receipt}, 2, "usage: steward receipt verify RECEIPT --public-key KEY"},
		"two files":     {[]string{"receipt", "verify", receipt, receipt, "--public-key", keys["pem"]}, 2, "usage:"},
		"missing":       {[]string{"receipt", "verify", filepath.Join(dir, "nope.json"), "--public-key", keys["pem"]}, 1, "nope.json"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), c.args, &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.want) || strings.Count(errOut.String(), "\n") != 1 || out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out.String(), errOut.String())
		}
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	return s[:strings.Index(s, to)]
}

// TestConnectorsCheckNamesUnlabelled: a connector without a label is named
// to the person by its connector name, so the check says so.
func TestConnectorsCheckNamesUnlabelled(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := steward(t, "migrate", "--data", dir); code != 0 {
		t.Fatalf("migrate: %d %q", code, errOut)
	}
	app := filepath.Join(t.TempDir(), "app.db")
	rightsFile := filepath.Join(t.TempDir(), "rights.yaml")
	os.WriteFile(rightsFile, []byte(`requests:
  events_label: Statistics from our website
connectors:
  - name: app_db
    kind: sql
    driver: sqlite
    dsn: `+app+`
    tables: []
  - name: crm
    label: Your customer record
    kind: sql
    driver: sqlite
    dsn: `+app+`
    tables: []
`), 0o600)
	keyFile := filepath.Join(t.TempDir(), "hashing.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)), 0o600)
	code, out, errOut := steward(t, "connectors", "check", "--data", dir, "--secret-file", keyFile, "--rights", rightsFile)
	if code != 0 || !strings.Contains(out, "note: app_db has no label") || strings.Contains(out, "crm has no label") || strings.Contains(out, "steward-events has no label") {
		t.Fatalf("connectors check: %d %q %q", code, out, errOut)
	}
}
