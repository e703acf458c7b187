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
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/notice"
)

// TestRecordsExport exports the records of processing of a steward that
// has served once, in each format, as a DPO would.
func TestRecordsExport(t *testing.T) {
	dir := t.TempDir()
	a, err := app.New(context.Background(), &config.Config{DataDir: dir, Addr: "127.0.0.1:8080"}, app.Options{Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	code, out, errOut := steward(t, "records", "export", "--data", dir)
	var recs notice.Records
	if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &recs) != nil {
		t.Fatalf("json: %d %q %.200s", code, errOut, out)
	}
	if recs.Controller.Name != "Example Ltd" || len(recs.Activities) != 4 || recs.Activities[0].ID != "interaction_data" || recs.RegistryVersion != 1 {
		t.Fatalf("records: %+v", recs)
	}
	code, out, _ = steward(t, "records", "export", "--data", dir, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 1+4+len(recs.Measures) || rows[1][1] != "interaction_data" {
		t.Fatalf("csv: %d %v %d rows", code, err, len(rows))
	}
	file := filepath.Join(dir, "records.md")
	if code, _, errOut := steward(t, "records", "export", "--data", dir, "--format", "md", "--lang", "de", "--out", file); code != 0 {
		t.Fatalf("md: %d %q", code, errOut)
	}
	md, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(md), "# Verzeichnis von Verarbeitungstätigkeiten") {
		t.Fatalf("md file: %v %.100s", err, md)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"records", "export", "--data", dir, "--format", "xml"}, 2, `--format "xml": use json, csv or md`},
		{[]string{"records", "export", "--data", dir, "--lang", "fr"}, 2, `--lang "fr": use one of en, de`},
		{[]string{"records", "list"}, 2, "usage: steward records export"},
		{[]string{"records", "export", "--data", dir, "--out", filepath.Join(dir, "no", "such", "dir.json")}, 1, "--out:"},
	} {
		code, _, errOut := steward(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want exit %d with %q on one line", c.args, code, errOut, c.code, c.want)
		}
	}
}
