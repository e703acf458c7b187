package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
)

// doneErasure walks an erasure of email to done through the service and
// returns its id and status page link.
func doneErasure(t *testing.T, n *node, mailTo func(addr, subject string) string, email string) (string, string) {
	t.Helper()
	ctx := context.Background()
	sub, err := n.srv.Rights.Submit(ctx, rights.Intake{Channel: rights.ChannelWeb, Type: rights.Erasure, Email: email, Acknowledged: true})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Request.ID
	deliver(t, n)
	for _, l := range links(mailTo(email, "Please confirm")) {
		if u, err := url.Parse(l); err == nil && strings.HasSuffix(u.Path, "/confirm") {
			if _, err := n.srv.Rights.Confirm(ctx, id, u.Query().Get("token"), u.Query().Get("code")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := n.srv.Rights.Take(ctx, id, "support@staff.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.Rights.Execute(ctx, id, "support@staff.example.org"); err != nil {
		t.Fatal(err)
	}
	n.clock.Advance(n.srv.Rights.Config.Grace + time.Minute)
	if err := n.srv.Rights.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := n.srv.Store.GetRequest(ctx, id); r.Status != string(rights.Done) {
		t.Fatalf("erasure of %s: %s", email, r.Status)
	}
	return id, sub.StatusURL
}

// openSSLCheck is the openssl check as docs/requests.md gives it, word
// for word, so the documented commands are the tested ones.
func openSSLCheck(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/requests.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)Or with openssl.*?```sh\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/requests.md has no openssl check")
	}
	return string(m[1])
}

// TestReceiptDownloadAndOfflineCheck: a finished erasure's status page
// offers the signed receipt as a file; the key that checks it is at its
// well-known URL as PEM and JWK; the receipt verifies offline with the
// key alone, in steward and with the openssl commands the docs give, and
// an altered receipt fails both.
func TestReceiptDownloadAndOfflineCheck(t *testing.T) {
	n, mail, _ := requestsNode(t, "")
	id, statusURL := doneErasure(t, n, func(a, s string) string { return mailTo(t, mail, a, s) }, "alice@example.org")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	_, page := get(statusURL)
	link := regexp.MustCompile(`href="(/privacy/requests/` + id + `/receipt\?token=[^"]+)"`).FindSubmatch(page)
	if link == nil {
		t.Fatalf("the status page offers no receipt download:\n%s", page)
	}
	resp, file := get(n.http.URL + htmlUnescape(string(link[1])))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="`+id+`-receipt.json"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("receipt download: %d %v", resp.StatusCode, resp.Header)
	}
	var rf rights.ReceiptFile
	if err := json.Unmarshal(file, &rf); err != nil || rf.Format != rights.ReceiptFormat || rf.KeyURL != n.http.URL+rights.ReceiptKeyPath {
		t.Fatalf("receipt file: %v %s", err, file)
	}
	// The same link without its token, or for a request not done, gives
	// the usual pages.
	if resp, _ := get(n.http.URL + "/privacy/requests/" + id + "/receipt?token=nope"); resp.StatusCode != 404 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	open, _ := n.srv.Rights.Submit(context.Background(), rights.Intake{Channel: rights.ChannelWeb, Type: rights.Access, Email: "bob@example.org"})
	if resp, body := get(strings.Replace(open.StatusURL, "?token", "/receipt?token", 1)); resp.StatusCode != 409 || !bytes.Contains(body, []byte("no receipt yet")) {
		t.Fatalf("a request without a receipt: %d %s", resp.StatusCode, body)
	}

	// The published key, as PEM and as JWK, is the one that signed.
	resp, pemKey := get(n.http.URL + rights.ReceiptKeyPath)
	if resp.StatusCode != 200 || !bytes.HasPrefix(pemKey, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Fatalf("PEM key: %d %s", resp.StatusCode, pemKey)
	}
	resp, jwk := get(n.http.URL + strings.TrimSuffix(rights.ReceiptKeyPath, ".pem") + ".jwk")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk+json" {
		t.Fatalf("JWK: %d %v", resp.StatusCode, resp.Header)
	}
	for name, k := range map[string][]byte{"pem": pemKey, "jwk": jwk, "page": []byte(rf.PublicKey)} {
		pub, err := rights.ParsePublicKey(k)
		if err != nil {
			t.Fatalf("%s key: %v", name, err)
		}
		rc, _, err := rights.VerifyReceiptFile(file, pub)
		if err != nil || rc.RequestID != id || len(rc.Steps) == 0 {
			t.Fatalf("%s key: %+v %v", name, rc, err)
		}
	}
	if !strings.Contains(html.UnescapeString(string(page)), rf.PublicKey) {
		t.Fatalf("the status page does not show the key %s", rf.PublicKey)
	}

	// A receipt altered by one byte fails.
	signed, _ := base64.StdEncoding.DecodeString(rf.Receipt)
	forged := rf
	forged.Receipt = base64.StdEncoding.EncodeToString(bytes.Replace(signed, []byte(`"count":3`), []byte(`"count":9`), 1))
	if forged.Receipt == rf.Receipt {
		t.Fatalf("nothing to alter in %s", signed)
	}
	forgedFile, _ := json.MarshalIndent(forged, "", "  ")
	pub, _ := rights.ParsePublicKey(pemKey)
	if _, _, err := rights.VerifyReceiptFile(forgedFile, pub); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("an altered receipt: %v", err)
	}

	// openssl, with the documented commands and nothing of steward's.
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed; the steward check above passed")
	}
	script := openSSLCheck(t)
	for name, c := range map[string]struct {
		file []byte
		ok   bool
	}{"downloaded": {file, true}, "altered": {forgedFile, false}} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "receipt.json"), c.file, 0o644)
		os.WriteFile(filepath.Join(dir, "steward-receipt-key.pem"), pemKey, 0o644)
		cmd := exec.Command("sh", "-e", "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		switch {
		case c.ok && (err != nil || !bytes.Contains(out, []byte("Signature Verified Successfully")) || !bytes.Contains(out, []byte(`"request_id":"`+id+`"`))):
			t.Fatalf("%s: openssl: %v\n%s", name, err, out)
		case !c.ok && (err == nil || !bytes.Contains(out, []byte("Signature Verification Failure"))):
			t.Fatalf("%s: openssl accepted it: %v\n%s", name, err, out)
		}
	}
}

// TestCollectionVolumeIsCounted: what the collection endpoint takes in is
// counted per dataset and day, and reaches the store by the time the node
// has stopped, so another node (or the next start) reads it.
func TestCollectionVolumeIsCounted(t *testing.T) {
	cfg := testConfig(t, "")
	n := startNode(t, cfg)
	b := newBrowser(t, n.http.URL)
	for _, hdr := range []map[string]string{nil, nil, {"DNT": "1"}} {
		if resp, _ := b.post("/v1/collect/interaction_data", sampleEvent, hdr); resp.StatusCode != 200 {
			t.Fatalf("collect: %d", resp.StatusCode)
		}
	}
	if resp, _ := b.post("/v1/collect/interaction_data", `{"number_emails":"three"}`, nil); resp.StatusCode != 400 {
		t.Fatalf("invalid: %d", resp.StatusCode)
	}
	n.http.Close()
	n.srv.Close()
	later := startNode(t, cfg)
	day := testNow.Truncate(24 * time.Hour)
	rows, err := later.srv.Store.CollectionDays(context.Background(), day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Dataset+" "+r.Outcome+" "+r.Reason] = r.Count
	}
	if got["interaction_data accepted "] != 2 || got["interaction_data dropped dnt"] != 1 || got["interaction_data rejected invalid"] != 1 || len(got) != 3 {
		t.Fatalf("stored counts: %v", got)
	}
}
