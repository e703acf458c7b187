package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

func getText(t *testing.T, url, tok string) (int, string, string) {
	t.Helper()
	resp, b := doRaw(t, "GET", url, tok, "", nil)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestIncidentReportsOverHTTP(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			im, au := token(t, n, auth.IncidentManager), token(t, n, auth.Auditor)
			status, body, _ := do(t, "POST", n.http.URL+"/v1/incidents", im,
				`{"title":"<script>alert(1)</script> laptop lost","summary":"an export of sign-in timings","dataset":"interaction_data"}`, nil)
			if status != http.StatusCreated {
				t.Fatalf("open: %d %v", status, body)
			}
			base := n.http.URL + "/v1/incidents/1"

			for _, c := range []struct{ path, ct, has string }{
				{"/report/authority.json", "application/json", `"phase": "phased"`},
				{"/report/authority.md", "text/markdown; charset=utf-8", "# Notification of a personal data breach (GDPR Art. 33)"},
				{"/report/authority.html", "text/html; charset=utf-8", "&lt;script&gt;alert(1)&lt;/script&gt; laptop lost"},
				{"/communication.md", "text/markdown; charset=utf-8", "## What you can do"},
			} {
				status, ct, text := getText(t, base+c.path, au)
				if status != http.StatusOK || ct != c.ct || !strings.Contains(text, c.has) {
					t.Errorf("GET %s: %d %s\n%s", c.path, status, ct, text)
				}
				if strings.Contains(text, "<script>") {
					t.Errorf("GET %s: unescaped script", c.path)
				}
			}
			req, _ := http.NewRequest("GET", base+"/report/authority.html", nil)
			req.Header.Set("Authorization", "Bearer "+im)
			if resp, err := http.DefaultClient.Do(req); err != nil || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("the printable page's policy: %v %v", err, resp.Header)
			} else {
				resp.Body.Close()
			}
			if status, _, _ := getText(t, n.http.URL+"/v1/incidents/77/report/authority.md", au); status != http.StatusNotFound {
				t.Errorf("unknown incident: %d", status)
			}

			// Bad input: a clear problem, nothing changed.
			for _, c := range []struct {
				body   string
				status int
				detail string
			}{
				{`{"measures": 5}`, http.StatusBadRequest, "measures"},
				{`{}`, http.StatusBadRequest, "give consequences, measures or delay_reasons"},
				{`{"measures":"` + strings.Repeat("m", incident.MaxDescription+1) + `"}`, http.StatusBadRequest, "measures: at most 20000 characters"},
				{`{"measures":"x","version":99}`, http.StatusConflict, "changed since it was read"},
			} {
				status, body, hdr := do(t, "POST", base+"/describe", im, c.body, nil)
				if status != c.status || !strings.Contains(hdr.Get("Content-Type"), "problem+json") || !strings.Contains(strings.ToLower(body["detail"].(string)), strings.ToLower(c.detail)) {
					t.Errorf("describe %.40s: %d %v", c.body, status, body)
				}
			}
			status, body, _ = do(t, "POST", base+"/describe", im, `{"consequences":"People's sign-in times could be seen.","measures":"Remote wipe."}`, nil)
			if status != http.StatusOK || body["measures"] != "Remote wipe." || body["state"] != "detected" {
				t.Fatalf("describe: %d %v", status, body)
			}
			// Not before Art. 34 was decided; the route is not taken for an action.
			status, body, _ = do(t, "POST", base+"/communicate", im, `{}`, nil)
			if status != http.StatusConflict || !strings.Contains(body["detail"].(string), "Art. 34(1)") {
				t.Fatalf("communicate before the decision: %d %v", status, body)
			}

			// Every read is in the access log.
			ctx := context.Background()
			head, _ := n.srv.Store.AccessHead(ctx)
			reads := 0
			n.srv.Store.ScanAccess(ctx, 0, head.Seq, func(e *store.AccessEntry) error {
				if e.Dataset == incident.Dataset && (strings.Contains(e.Query, "authority report") || strings.Contains(e.Query, "communication (markdown)")) {
					reads++
				}
				return nil
			})
			if reads != 5 {
				t.Errorf("reads logged: %d, want 5", reads)
			}
		})
	}
}
