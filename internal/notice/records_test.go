package notice_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/steward-privacy/steward/internal/notice"
)

func records(t *testing.T, lang string) *notice.Records {
	t.Helper()
	reg := wideRegistry(t)
	n := build(t, inputs(reg, widePolicy(t, reg)))
	ms := notice.Measures{Database: "postgres", DatabaseTLS: "verified", HTTPS: true, MailServer: "smtp.example.org",
		MailTLS: "required", RetentionEvery: 10 * time.Minute, CheckpointEvery: time.Hour, Witness: true}
	return notice.BuildRecords(notice.Version{Number: 3, Registry: 7, Notice: n}, ms, languages(t).Get(lang),
		time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
}

// TestRecordsJSONFollowsSchema: the JSON export validates against the
// schema published in docs, and says what Art. 30(1) asks.
func TestRecordsJSONFollowsSchema(t *testing.T) {
	r := records(t, "en")
	var buf bytes.Buffer
	if err := r.Write(&buf, notice.FormatJSON); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../docs/records.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("records.schema.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("records.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("the export does not follow docs/records.schema.json: %v", err)
	}
	// The schema is not a schema that takes anything.
	var broken map[string]any
	_ = json.Unmarshal(buf.Bytes(), &broken)
	delete(broken["controller"].(map[string]any), "name")
	if schema.Validate(broken) == nil {
		t.Fatal("the schema accepts records without the controller's name")
	}

	var back notice.Records
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, a := range back.Activities {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"interaction_data", "request_log", "accounts", "data_subject_requests", "access_log"}) {
		t.Fatalf("activities %v", ids)
	}
	acc := back.Activities[2]
	if acc.LawfulBasis != "a contract with you (GDPR Art. 6(1)(b))" || acc.Retention.D() != 30*24*time.Hour ||
		!strings.Contains(acc.DataSubjects, "identified") {
		t.Errorf("accounts activity: %+v", acc)
	}
	// Personal data by category, without the dropped field.
	var cats []int
	for _, c := range acc.PersonalData {
		cats = append(cats, c.Category)
		if slices.Contains(c.Fields, "hint") {
			t.Errorf("a dropped field is listed as personal data kept: %+v", c)
		}
	}
	if !slices.Equal(cats, []int{1, 2, 3}) {
		t.Errorf("categories %v", cats)
	}
	// steward's store is in Germany: no transfer for a dataset; the US
	// account database is one for requests, with its safeguards.
	if len(acc.Transfers) != 0 {
		t.Errorf("transfers of a dataset kept in the EEA: %+v", acc.Transfers)
	}
	req := back.Activities[3]
	if len(req.Transfers) != 1 || req.Transfers[0] != (notice.Transfer{Recipient: "Our account database", Country: "US", Safeguards: "standard contractual clauses"}) {
		t.Errorf("request transfers: %+v", req.Transfers)
	}
	var measures []string
	for _, m := range back.Measures {
		measures = append(measures, m.ID)
	}
	for _, want := range []string{"minimisation", "purpose_bound_reads", "access_log", "checkpoints", "retention", "erasure", "database_encryption", "mail_encryption"} {
		if !slices.Contains(measures, want) {
			t.Errorf("no measure %s in %v", want, measures)
		}
	}
}

// TestRecordsCSVParses: the CSV export reads back with encoding/csv, one
// row per activity and per measure, matching the JSON.
func TestRecordsCSVParses(t *testing.T) {
	r := records(t, "en")
	var buf bytes.Buffer
	if err := r.Write(&buf, notice.FormatCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if !slices.Equal(rows[0], notice.CSVHeader) {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows) != 1+len(r.Activities)+len(r.Measures) {
		t.Fatalf("%d rows for %d activities and %d measures", len(rows), len(r.Activities), len(r.Measures))
	}
	col := func(name string) int { return slices.Index(notice.CSVHeader, name) }
	for i, a := range r.Activities {
		row := rows[1+i]
		if row[col("id")] != a.ID || row[col("kind")] != a.Kind || row[col("lawful_basis")] != a.LawfulBasis ||
			row[col("erasure_time_limit")] != a.ErasureLimit || row[col("controller")] != r.Controller.Name {
			t.Errorf("row %d: %v", i+1, row)
		}
	}
	if got := rows[1+len(r.Activities)]; got[col("kind")] != "measure" || got[col("description")] != r.Measures[0].Description {
		t.Errorf("first measure row: %v", got)
	}
}

func TestRecordsMarkdown(t *testing.T) {
	r := records(t, "de")
	var buf bytes.Buffer
	if err := r.Write(&buf, notice.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"# Verzeichnis von Verarbeitungstätigkeiten", "## interaction_data", "## accounts",
		"**Übermittlungen an Drittländer:** keine", "Technische und organisatorische Maßnahmen"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(md, "berechtigte Interessen (Art. 6 Abs. 1 lit. f DSGVO)") {
		t.Errorf("the activities are not in German:\n%s", md)
	}
	if err := r.Write(&buf, "xml"); err == nil {
		t.Fatal("an unknown format was written")
	}
}
