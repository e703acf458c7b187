package server

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
)

func call(t *testing.T, n *node, tok, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	return doRaw(t, method, n.http.URL+path, tok, body, nil)
}

// TestIncidentRegisterOverHTTP: an incident manager reports an incident,
// a DPO (signed in as an auditor) downloads the register as CSV and JSON.
func TestIncidentRegisterOverHTTP(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	im, dpo := token(t, n, auth.IncidentManager), token(t, n, auth.Auditor)
	if resp, raw := call(t, n, im, "POST", "/v1/incidents", `{"title":"misdirected e-mail","summary":"an export went to the wrong address"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("open: %d %s", resp.StatusCode, raw)
	}
	resp, raw := call(t, n, dpo, "GET", "/v1/incidents/register?format=csv", "")
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) != 2 || rows[1][1] != "misdirected e-mail" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), ".csv") {
		t.Fatalf("csv: %d %v %q %v", resp.StatusCode, err, raw, resp.Header)
	}
	resp, raw = call(t, n, dpo, "GET", "/v1/incidents/register", "")
	var reg struct {
		Incidents []struct {
			Title    string
			Timeline []struct{ Note string }
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &reg) != nil || len(reg.Incidents) != 1 || len(reg.Incidents[0].Timeline) == 0 {
		t.Fatalf("json: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := call(t, n, dpo, "GET", "/v1/incidents/register?state=open&source=manual", ""); resp.StatusCode != 200 || !strings.Contains(string(raw), "misdirected e-mail") {
		t.Fatalf("open incidents: %d %s", resp.StatusCode, raw)
	}
	for _, bad := range []struct{ path, want string }{
		{"/v1/incidents/register?format=xml", "format: json or csv"},
		{"/v1/incidents/register?state=lost", "state: not a state of an incident"},
		{"/v1/incidents/register?source=rumour", "source: policy, integrity, unusual or manual"},
		{"/v1/incidents?source=rumour", "source: policy, integrity, unusual or manual"},
	} {
		resp, raw := call(t, n, dpo, "GET", bad.path, "")
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(raw), bad.want) {
			t.Errorf("%s: %d %s", bad.path, resp.StatusCode, raw)
		}
	}
	if resp, _ := call(t, n, token(t, n, auth.Analyst), "GET", "/v1/incidents/register", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an analyst reads no register: %d", resp.StatusCode)
	}
}
