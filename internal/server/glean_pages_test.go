package server

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store"
)

// postGlean posts the new-proposal form with Glean files, as a browser
// does with a multiple file input.
func (p *page) postGlean(fields map[string]string, files map[string]string) (int, string, string) {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for name, text := range files {
		fw, _ := mw.CreateFormFile("glean", name)
		_, _ = io.WriteString(fw, text)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", p.base+"/admin/reviews", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header.Get("Location")
}

// TestGleanImportInPortal proposes Glean's files from the portal's upload,
// as a new user would: a file with a problem is named with its line and
// nothing is stored; a good one becomes a draft whose page lists the
// metrics with their sensitivity, bugs and data reviews.
func TestGleanImportInPortal(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	analyst := signIn(t, n, auth.Analyst)
	csrf := analyst.csrf()
	bad := strings.Replace(gleanTestMetrics, "type: counter", "type: histogram", 1)
	st, body, _ := analyst.postGlean(map[string]string{auth.CSRFField: csrf, "glean_app_id": "org.example.app"}, map[string]string{"metrics.yaml": bad})
	if st != 400 || !strings.Contains(body, "metrics.yaml:4: metric browser.clicks: type &#34;histogram&#34; is not a Glean metric type") || !strings.Contains(body, `value="org.example.app"`) {
		t.Fatalf("bad file: %d\n%s", st, plain(body))
	}
	if ps, _ := n.srv.Store.ListProposals(context.Background(), store.ProposalQuery{}); len(ps) != 0 {
		t.Fatalf("a bad import stored a proposal: %v", ps)
	}
	if st, body, _ := analyst.postGlean(map[string]string{auth.CSRFField: csrf, "glean_app_id": "org.example.app"}, nil); st != 400 || !strings.Contains(body, "Choose the Glean metrics.yaml") {
		t.Fatalf("no files: %d", st)
	}
	st, _, loc := analyst.postGlean(map[string]string{auth.CSRFField: csrf, "glean_app_id": "org.example.app"}, map[string]string{"metrics.yaml": gleanTestMetrics})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/reviews/1") {
		t.Fatalf("import: %d %q", st, loc)
	}
	st, body, _ = analyst.get(loc)
	if st != 200 || !strings.Contains(plain(body), "browser__clicks") || !strings.Contains(plain(body), "data_sensitivity: interaction") || !strings.Contains(plain(body), "https://reviews.example/1") {
		t.Fatalf("import: %d\n%s", st, plain(body))
	}
	// An import's warnings are not lost: the proposal's first history line
	// keeps them, on its page.
	withJWE := gleanTestMetrics + "  secret:\n    <<: *d\n    type: jwe\n"
	st, _, loc = analyst.postGlean(map[string]string{auth.CSRFField: csrf, "glean_app_id": "org.example.other"}, map[string]string{"metrics.yaml": withJWE})
	if st != http.StatusSeeOther {
		t.Fatalf("import with a warning: %d", st)
	}
	if _, body, _ = analyst.get(loc); !strings.Contains(plain(body), "import warnings:") || !strings.Contains(plain(body), "type jwe has no steward type") {
		t.Fatalf("the import's warning is not on the proposal:\n%s", plain(body))
	}
}
