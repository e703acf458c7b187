package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

const gleanMetrics = `$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0
browser:
  clicks:
    type: counter
    description: How often the toolbar was clicked.
    data_sensitivity: [interaction]
    bugs: [https://bugs.example/7]
    data_reviews: [https://reviews.example/7]
    notification_emails: [toolbar@example.org]
    expires: 2030-01-01
  theme:
    type: string
    description: The theme in use.
    bugs: [https://bugs.example/8]
    data_reviews: [https://reviews.example/8]
    notification_emails: [toolbar@example.org]
    expires: 140
`

// TestImportGlean runs the import as a new user would: print a proposal
// against a file, then propose it against the registry in force and read
// its review document.
func TestImportGlean(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "metrics.yaml")
	os.WriteFile(m, []byte(gleanMetrics), 0o600)
	base := filepath.Join(dir, "base.yaml")
	os.WriteFile(base, registry.DefaultYAML, 0o600)

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"registry", "import-glean", m}, 2, "usage: steward registry import-glean"},
		{[]string{"registry", "import-glean", "--app-id", "app", m}, 2, "give --base FILE"},
		{[]string{"registry", "import-glean", "--app-id", "app", "--base", base, m}, 1, "metrics.yaml:17: metric browser.theme: expires in major version 140: give the app's major version with --app-version"},
		{[]string{"registry", "import-glean", "--app-id", "app", "--base", base, filepath.Join(dir, "none.yaml")}, 1, "cannot read"},
	} {
		code, out, errOut := steward(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: %d %q %q, want %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
	}
	code, out, errOut := steward(t, "registry", "import-glean", "--app-id", "org.example.app", "--app-version", "120", "--base", base, m)
	if code != 0 || !strings.Contains(errOut, "metrics.yaml:11: warning: metric browser.theme has no data_sensitivity") {
		t.Fatalf("import: %d %q", code, errOut)
	}
	r, probs := registry.Parse([]byte(out), "out")
	if len(probs) > 0 || r.Dataset("interaction_data") == nil || r.DatasetByGlean("org-example-app", "metrics") == nil {
		t.Fatalf("the proposal does not keep the base or lint: %v\n%s", probs, out)
	}

	a, err := app.New(context.Background(), &config.Config{DataDir: dir, Addr: "127.0.0.1:8080"}, app.Options{Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateUser(context.Background(), store.User{ID: "u1", Email: "dev@example.org", Role: "analyst", PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	code, out, errOut = steward(t, "registry", "import-glean", "--data", dir, "--app-id", "org.example.app", "--app-version", "120", "--propose", "--as", "dev@example.org", m)
	if code != 0 || !strings.HasPrefix(out, "proposal 1 (draft): Glean import: org.example.app (2 metrics in 1 pings)") || !strings.Contains(out, "+ org_example_app_metrics") {
		t.Fatalf("propose: %d %q %q", code, out, errOut)
	}
	code, out, _ = steward(t, "review", "doc", "--data", dir, "1")
	for _, want := range []string{"browser__clicks", "data_sensitivity: interaction", "bugs: https://bugs.example/7", "data reviews: https://reviews.example/7", "https://reviews.example/8"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("review doc lacks %q:\n%s", want, out)
		}
	}
}
