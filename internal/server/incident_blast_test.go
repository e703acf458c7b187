package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
)

// TestIncidentBlastRadiusOverHTTP: an analyst's token reads an event; an
// incident manager opens an incident and sets the window on that token,
// and reads the incident back with its blast radius. A bad window is a
// 400 that says what is wrong and changes nothing.
func TestIncidentBlastRadiusOverHTTP(t *testing.T) {
	for name, dsn := range backendsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, testConfig(t, dsn(t)))
			b := newBrowser(t, n.http.URL)
			if resp, body := b.post("/wsapi/interaction_data", sampleEvent, nil); resp.StatusCode != 200 {
				t.Fatalf("collect: %d %v", resp.StatusCode, body)
			}
			secret, tok, err := auth.NewToken(context.Background(), n.srv.Store, "dash", auth.Analyst, 0, n.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if status, page := readEvents(t, n.http.URL, secret, "interaction_data", dayRange+asAnalyst); status != 200 {
				t.Fatalf("read: %d %v", status, page)
			}
			n.clock.Advance(time.Minute)
			im := token(t, n, auth.IncidentManager)
			leak := testNow.Add(-time.Hour).Format(time.RFC3339)
			status, inc, _ := do(t, "POST", n.http.URL+"/v1/incidents", im, `{"title":"dash token posted in a chat","leak_at":"`+leak+`"}`, nil)
			if status != http.StatusCreated {
				t.Fatalf("open: %d %v", status, inc)
			}
			path := fmt.Sprintf("%s/v1/incidents/%.0f", n.http.URL, inc["id"])
			status, got, _ := do(t, "POST", path+"/window", im, `{"credential":"token:`+tok.ID+`"}`, nil)
			br, _ := got["blast_radius"].(map[string]any)
			if status != 200 || br["subjects"] != 1.0 || br["entries"] != 1.0 || br["credential"] != "token:"+tok.ID || len(br["subject_keys"].([]any)) != 1 {
				t.Fatalf("window: %d %v", status, got)
			}
			status, got, _ = do(t, "GET", path, im, "", nil)
			br, _ = got["blast_radius"].(map[string]any)
			ds, _ := br["datasets"].([]any)
			if status != 200 || len(ds) != 1 || ds[0].(map[string]any)["name"] != "interaction_data" || ds[0].(map[string]any)["subject_kind"] != "pseudonymous" {
				t.Fatalf("get: %d %v", status, got)
			}
			version := got["version"]
			for body, want := range map[string]string{
				`{"from":"2026-11-22T13:00:00Z","to":"2026-11-22T12:00:00Z"}`: "must be before",
				`{"to":"2030-01-01T00:00:00Z"}`:                               "future",
				`{"credential":"dash"}`:                                       "method:id",
				`{"from":"yesterday"}`:                                        "JSON",
				`{"window":"all"}`:                                            "unknown field",
			} {
				status, p, hdr := do(t, "POST", path+"/window", im, body, nil)
				if status != 400 || !strings.Contains(hdr.Get("Content-Type"), "problem+json") || !strings.Contains(fmt.Sprint(p["detail"]), want) {
					t.Errorf("%s: %d %v, want 400 saying %q", body, status, p, want)
				}
			}
			if _, got, _ = do(t, "GET", path, im, "", nil); got["version"] != version {
				t.Fatalf("bad input changed the incident: %v", got)
			}
		})
	}
}
