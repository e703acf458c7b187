// Package pgaudit turns PostgreSQL's pgaudit log of the product's own
// database into access-log entries: a read or write of a table that holds
// personal data, by a database role, becomes an entry in steward's one
// chained access log, and the breach monitor checks it like any other. It
// is where accesses that go around steward (a person with a database
// login, seed 003's Bob) become visible. docs/breach.md describes it.
//
// The log is read in PostgreSQL's csvlog format (log_destination =
// 'csvlog'): its columns are fixed and documented, its quoting is CSV's
// (so encoding/csv reads it, newlines inside statements included), and
// the role, database and client come from their own columns instead of a
// log_line_prefix each installation spells differently.
package pgaudit

import (
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The csvlog columns this package reads (PostgreSQL 13 to 17 share them;
// later versions add columns at the end).
const (
	colLogTime = iota
	colUser
	colDatabase
	colPID
	colConnFrom
	colSession
	colSessionLine
	colCommandTag
	colSessionStart
	colVXID
	colXID
	colSeverity
	colSQLState
	colMessage
	minColumns // a record needs at least the columns up to the message
)

// Audit is one pgaudit line: one statement (or, with
// pgaudit.log_relation = on, one relation of a statement).
type Audit struct {
	At       time.Time
	User     string // the database role
	Database string
	// ConnFrom is the client as PostgreSQL logs it ("host:port" or
	// "[local]"); only its network is ever stored.
	ConnFrom string
	Session  string // PostgreSQL's session id
	// Type is SESSION or OBJECT (pgaudit's audit type).
	Type        string
	StatementID int64
	SubID       int64
	// Class is READ, WRITE, FUNCTION, ROLE, DDL, MISC or MISC_SET.
	Class      string
	Command    string // SELECT, INSERT, COPY …
	ObjectType string // TABLE, VIEW … ("" for a statement on no object)
	ObjectName string // schema.table as pgaudit writes it
	Statement  string
}

// auditPrefix starts the message of every pgaudit line.
const auditPrefix = "AUDIT: "

// ErrNotAudit is ParseRecord's answer for a well-formed csvlog record that
// is not a pgaudit line (a server start, a slow-query notice): skipped,
// and not counted as malformed.
var ErrNotAudit = errors.New("not a pgaudit line")

// ParseRecord reads one csvlog record (its fields, as encoding/csv gives
// them). A record that is not a pgaudit line is ErrNotAudit; any other
// error means the record is malformed.
func ParseRecord(fields []string) (Audit, error) {
	if len(fields) < minColumns {
		return Audit{}, fmt.Errorf("%d columns, a csvlog record has at least %d", len(fields), minColumns)
	}
	msg, ok := strings.CutPrefix(fields[colMessage], auditPrefix)
	if !ok {
		return Audit{}, ErrNotAudit
	}
	at, err := parseLogTime(fields[colLogTime])
	if err != nil {
		return Audit{}, err
	}
	a := Audit{At: at, User: fields[colUser], Database: fields[colDatabase], ConnFrom: fields[colConnFrom], Session: fields[colSession]}
	if a.User == "" {
		return Audit{}, errors.New("a pgaudit line without a user_name")
	}
	// pgaudit writes its own fields as one CSV line: AUDIT_TYPE,
	// STATEMENT_ID, SUBSTATEMENT_ID, CLASS, COMMAND, OBJECT_TYPE,
	// OBJECT_NAME, STATEMENT, PARAMETER (and ROWS with pgaudit.log_rows).
	r := csv.NewReader(strings.NewReader(msg))
	r.FieldsPerRecord = -1
	f, err := r.Read()
	if err != nil {
		return Audit{}, fmt.Errorf("pgaudit fields: %v", err)
	}
	if _, err := r.Read(); err == nil {
		return Audit{}, errors.New("pgaudit fields: more than one line")
	}
	if len(f) < 8 {
		return Audit{}, fmt.Errorf("pgaudit fields: %d, want at least 8", len(f))
	}
	a.Type, a.Class, a.Command, a.ObjectType, a.ObjectName, a.Statement = f[0], f[3], f[4], f[5], f[6], f[7]
	if a.Type != "SESSION" && a.Type != "OBJECT" {
		return Audit{}, fmt.Errorf("pgaudit audit type %q, want SESSION or OBJECT", a.Type)
	}
	if a.StatementID, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return Audit{}, fmt.Errorf("pgaudit statement id %q is not a number", f[1])
	}
	if a.SubID, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return Audit{}, fmt.Errorf("pgaudit substatement id %q is not a number", f[2])
	}
	if a.Class == "" || a.Command == "" {
		return Audit{}, errors.New("pgaudit line without a class or command")
	}
	return a, nil
}

// parseLogTime reads csvlog's log_time ("2026-12-03 09:37:31.050 UTC").
// PostgreSQL writes the zone as an abbreviation, which only UTC, GMT and
// numeric offsets name unambiguously; docs/breach.md asks for
// log_timezone = 'UTC'.
func parseLogTime(s string) (time.Time, error) {
	stamp, zone, ok := strings.Cut(s, " UTC")
	if !ok || zone != "" {
		stamp, zone, ok = strings.Cut(s, " GMT")
	}
	if ok && zone == "" {
		t, err := time.Parse("2006-01-02 15:04:05.999999", stamp)
		if err != nil {
			return time.Time{}, fmt.Errorf("log_time %q: %v", s, err)
		}
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999 -07", "2006-01-02 15:04:05.999999 -0700", "2006-01-02 15:04:05.999999 -07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("log_time %q is not in UTC or a numeric offset (set log_timezone = 'UTC')", s)
}
