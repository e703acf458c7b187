package pgaudit

import (
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"
)

// Lines as PostgreSQL 15 with pgaudit 1.7 writes them (copied from a real
// csvlog, the statement with a comma, a quote and a newline).
const (
	lineRead  = `2026-12-03 09:37:31.111 UTC,"app_reader","postgres",12310,"127.0.0.1:51308",6b11385b.3016,1,"SELECT",2026-12-03 09:37:31 UTC,3/4,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,select * from t,<not logged>",,,,,,,,,"psql","client backend",,0` + "\n"
	lineWrite = `2026-12-03 09:37:31.050 UTC,"postgres","postgres",12308,"127.0.0.1:51300",6b11385b.3014,1,"INSERT",2026-12-03 09:37:31 UTC,3/2,724,LOG,00000,"AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,""insert into t values (1,'a,b""""c
d');"",<not logged>",,,,,,,,,"psql","client backend",,0` + "\n"
	lineStart = `2026-12-03 09:37:30.924 UTC,,,12299,,6b11385a.300b,5,,2026-12-03 09:37:30 UTC,,0,LOG,00000,"database system is ready to accept connections",,,,,,,,,"","postmaster",,0` + "\n"
)

func fields(t *testing.T, line string) []string {
	t.Helper()
	f, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseRecord(t *testing.T) {
	a, err := ParseRecord(fields(t, lineRead))
	if err != nil {
		t.Fatal(err)
	}
	want := Audit{At: time.Date(2026, 12, 3, 9, 37, 31, 111e6, time.UTC), User: "app_reader", Database: "postgres", ConnFrom: "127.0.0.1:51308",
		Session: "6b11385b.3016", Type: "SESSION", StatementID: 1, SubID: 1, Class: "READ", Command: "SELECT", ObjectType: "TABLE",
		ObjectName: "public.t", Statement: "select * from t"}
	if a != want {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
	w, err := ParseRecord(fields(t, lineWrite))
	if err != nil || w.Class != "WRITE" || w.Statement != "insert into t values (1,'a,b\"c\nd');" {
		t.Fatalf("%+v %v", w, err)
	}
	if _, err := ParseRecord(fields(t, lineStart)); !errors.Is(err, ErrNotAudit) {
		t.Fatalf("server line: %v", err)
	}
}

func TestParseRecordMalformed(t *testing.T) {
	base := fields(t, lineRead)
	with := func(col int, v string) []string {
		f := append([]string(nil), base...)
		f[col] = v
		return f
	}
	for name, tc := range map[string]struct {
		fields []string
		want   string
	}{
		"few columns":       {base[:10], "10 columns"},
		"bad time":          {with(colLogTime, "yesterday"), "log_time"},
		"zone abbreviation": {with(colLogTime, "2026-12-03 10:37:31.111 CET"), "log_timezone = 'UTC'"},
		"no user":           {with(colUser, ""), "user_name"},
		"short audit":       {with(colMessage, "AUDIT: SESSION,1,1,READ"), "want at least 8"},
		"audit type":        {with(colMessage, "AUDIT: SOMETHING,1,1,READ,SELECT,TABLE,public.t,x,y"), "audit type"},
		"statement id":      {with(colMessage, "AUDIT: SESSION,one,1,READ,SELECT,TABLE,public.t,x,y"), "statement id"},
		"substatement id":   {with(colMessage, "AUDIT: SESSION,1,x,READ,SELECT,TABLE,public.t,x,y"), "substatement id"},
		"no class":          {with(colMessage, "AUDIT: SESSION,1,1,,SELECT,TABLE,public.t,x,y"), "class"},
		"bad quoting":       {with(colMessage, `AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,"x,y`), "pgaudit fields"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRecord(tc.fields)
			if err == nil || errors.Is(err, ErrNotAudit) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestParseLogTimeOffsets(t *testing.T) {
	want := time.Date(2026, 12, 3, 9, 37, 31, 0, time.UTC)
	for _, s := range []string{"2026-12-03 09:37:31 UTC", "2026-12-03 09:37:31.000 GMT", "2026-12-03 10:37:31.000 +01", "2026-12-03 04:07:31 -0530"} {
		got, err := parseLogTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
}

func TestNextRecord(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{lineRead, len(lineRead)},
		{lineWrite, len(lineWrite)}, // the newline inside the statement does not end it
		{lineRead + lineStart, len(lineRead)},
		{strings.TrimSuffix(lineRead, "\n"), -1},           // still being written
		{lineWrite[:strings.Index(lineWrite, "\n")+1], -1}, // cut inside the quoted statement
		{"", -1},
	} {
		if got := nextRecord([]byte(tc.in)); got != tc.want {
			t.Errorf("%.40q…: %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestHeadFields(t *testing.T) {
	long := strings.Replace(lineWrite, "insert into", "insert /*"+strings.Repeat("x,\"\"\"\"\n", 100)+"*/ into", 1)
	for _, cut := range []int{300, 600, len(long) - 10} {
		f, ok := headFields([]byte(long[:cut]))
		if !ok {
			t.Fatalf("cut at %d: no head", cut)
		}
		a, err := ParseRecord(f)
		if err != nil || a.User != "postgres" || a.Class != "WRITE" || a.ObjectName != "public.t" || a.Session != "6b11385b.3014" ||
			!strings.Contains(a.Statement, "not read") {
			t.Fatalf("cut at %d: %+v %v", cut, a, err)
		}
	}
	for name, b := range map[string]string{
		"cut in the columns": lineRead[:60],
		"cut in the message": lineRead[:strings.Index(lineRead, "public.t")],
		"not pgaudit":        lineStart,
		"garbage":            "a line no PostgreSQL wrote, \"with\" quotes\n",
	} {
		if _, ok := headFields([]byte(b)); ok {
			t.Errorf("%s: a head from %q", name, b)
		}
	}
}

func TestMappingEntry(t *testing.T) {
	m := Mapping{Tables: map[string]string{"public.t": "interaction_data"}, Roles: map[string]Grant{"app_reader": {"analyst", "product_improvement"}}}
	a, _ := ParseRecord(fields(t, lineRead))
	e, out := m.Entry(a)
	if out != Logged || e.Actor != "db:app_reader" || e.AuthMethod != "pgaudit" || e.CredentialID != "app_reader" || e.Role != "analyst" ||
		e.Purpose != "product_improvement" || e.Dataset != "interaction_data" || e.Query != "READ SELECT public.t" || e.ClientNet != "127.0.0.0" ||
		e.Records != 0 || e.Decision != "allowed" || strings.Contains(e.Reason+e.Query, "select *") {
		t.Fatalf("%v %+v", out, e)
	}
	a.User = "bob"
	if e, _ := m.Entry(a); e.Role != "" || e.Purpose != "" || e.Actor != "db:bob" {
		t.Fatalf("unmapped role: %+v", e)
	}
	a.ObjectName = "public.other"
	if _, out := m.Entry(a); out != Unmapped {
		t.Fatalf("unmapped table: %v", out)
	}
	a.ObjectName, a.Class = "public.t", "DDL"
	if _, out := m.Entry(a); out != Other {
		t.Fatalf("ddl: %v", out)
	}
	for from, want := range map[string]string{"[local]": "local", "10.1.2.3:5432": "10.1.2.0", "2001:db8:1:2::5:40000": "2001:db8:1::", "db.example:1": "", "": ""} {
		if got := clientNet(from); got != want {
			t.Errorf("clientNet(%q) = %q, want %q", from, got, want)
		}
	}
}

func TestMappingValidate(t *testing.T) {
	m := Mapping{Tables: map[string]string{"accounts": "interaction_data", "public.x": "nope", "public.t": "interaction_data"},
		Roles: map[string]Grant{"app": {"root", "p"}, "ops": {"analyst", ""}, "ok": {"analyst", "product_improvement"}}}
	err := m.Validate(func(d string) bool { return d == "interaction_data" })
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"pgaudit.tables.accounts: name the table", `pgaudit.tables.public.x: "nope" is not a dataset`, `pgaudit.roles.app.role: "root"`, "pgaudit.roles.ops.purpose"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "public.t:") || strings.Contains(err.Error(), "roles.ok") {
		t.Errorf("good keys reported: %v", err)
	}
}
