package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

// TestIncidentRegisterExport exports the breach register as a DPO would,
// after an incident manager reported one by hand; the export is itself a
// read of incidents in the access log.
func TestIncidentRegisterExport(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := app.New(ctx, &config.Config{DataDir: dir, Addr: "127.0.0.1:8080"}, app.Options{Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	im := incident.Actor{Name: "im@example.org", Role: auth.IncidentManager, Method: "password", Credential: "s1"}
	if _, err := a.Incidents.OpenByHand(ctx, im, incident.OpenInput{Title: "laptop lost", Summary: "left on a train"}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	code, out, errOut := steward(t, "incident", "register", "--data", dir)
	var reg incident.Register
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &reg) != nil || len(reg.Incidents) != 1 || reg.Incidents[0].Title != "laptop lost" {
		t.Fatalf("json: %d %q %.300s", code, errOut, out)
	}
	file := filepath.Join(dir, "register.csv")
	if code, _, errOut := steward(t, "incident", "register", "--data", dir, "--format", "csv", "--out", file); code != 0 {
		t.Fatalf("csv: %d %q", code, errOut)
	}
	raw, _ := os.ReadFile(file)
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != "laptop lost" {
		t.Fatalf("csv file: %v %q", err, raw)
	}
	code, out, _ = steward(t, "incident", "register", "--data", dir, "--state", "closed")
	if code != 0 || json.Unmarshal([]byte(out), &reg) != nil || len(reg.Incidents) != 0 {
		t.Fatalf("filtered: %d %.200s", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"incident", "register", "--data", dir, "--format", "xml"}, 2, `--format "xml": use json or csv`},
		{[]string{"incident", "register", "--data", dir, "--state", "lost"}, 2, `--state "lost": not a state of an incident`},
		{[]string{"incident", "register", "--data", dir, "--source", "rumour"}, 2, `--source "rumour": use policy, integrity, unusual or manual`},
		{[]string{"incident", "list"}, 2, "usage: steward incident register"},
		{[]string{"incident", "register", "--data", dir, "--out", filepath.Join(dir, "no", "such", "dir.csv")}, 1, "--out:"},
	} {
		code, _, errOut := steward(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want exit %d with %q on one line", c.args, code, errOut, c.code, c.want)
		}
	}

	a, err = app.New(ctx, &config.Config{DataDir: dir, Addr: "127.0.0.1:8080"}, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	reads, err := a.Store.ListAccess(ctx, store.AccessQuery{Dataset: incident.Dataset, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	cli := 0
	for _, e := range reads {
		if e.AuthMethod == "cli" && strings.HasPrefix(e.Query, "incident register") {
			cli++
		}
	}
	if cli != 4 {
		t.Fatalf("each export leaves an access-log entry: %d of %d entries", cli, len(reads))
	}
}
