package connectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/rights"
)

func loadRights(t *testing.T, yaml string) (*Set, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rights.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := rights.DefaultConfig("http://127.0.0.1:8080")
	set, err := Load(path, &cfg, &Events{})
	if err == nil {
		t.Cleanup(set.Close)
	}
	return set, err
}

// TestDeclaredLocations: the settings declare where steward and each
// connector run, for the notice and the records of processing; a location
// that is not a country code stops start-up with a line that says so.
func TestDeclaredLocations(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	set, err := loadRights(t, `
location: de
connectors:
  - name: app_db
    kind: sql
    label: Our account database
    location: US
    safeguards: standard contractual clauses
    driver: sqlite
    dsn: `+db+`
    tables: [{table: users, key: id, match: account_id, action: delete}]
  - name: app
    kind: webhook
    url: https://app.internal/steward
    secret: a-secret-of-at-least-16-characters
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Declared{{Name: "steward-events", Kind: "events", Location: "DE"},
		{Name: "app_db", Kind: "sql", Label: "Our account database", Location: "US", Safeguards: "standard contractual clauses"},
		{Name: "app", Kind: "webhook"}}
	if len(set.Declared) != len(want) || len(set.Declared) != len(set.List) {
		t.Fatalf("declared %+v for %d connectors", set.Declared, len(set.List))
	}
	for i := range want {
		if set.Declared[i] != want[i] || set.Declared[i].Name != set.List[i].Name() {
			t.Errorf("declared[%d] = %+v, want %+v", i, set.Declared[i], want[i])
		}
	}
	for _, bad := range []string{"location: Germany\n", "location: XX\n", "location: 276\n",
		"connectors:\n  - {name: app, kind: webhook, url: 'https://x', secret: a-secret-of-at-least-16-characters, location: EU}\n"} {
		_, err := loadRights(t, bad)
		if err == nil || !strings.Contains(err.Error(), "is not a country code; give the two letters of ISO 3166-1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
