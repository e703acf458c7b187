package connectors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/steward-privacy/steward/internal/rights"
)

// SQLTable says how one table holds a person's data.
type SQLTable struct {
	Table string `yaml:"table"`
	// Key is the column that identifies the person; Match names which of
	// the person's identifiers it holds: account_id, email or app_user_id.
	Key   string `yaml:"key"`
	Match string `yaml:"match"`
	// Action at purge: delete the rows, or null or overwrite Columns.
	Action  string   `yaml:"action"`
	Columns []string `yaml:"columns"`
	// Overwrite is the value written by the overwrite action.
	Overwrite string `yaml:"overwrite"`
	// Deactivate, when set, is column → value written at deactivation
	// (e.g. active: "false").
	Deactivate map[string]string `yaml:"deactivate"`
}

// SQLIdentity are the queries that find an account; each returns one row
// of (id, email) and takes the identifier as its only parameter.
type SQLIdentity struct {
	ByEmail      string `yaml:"by_email"`
	ByAppUserID  string `yaml:"by_app_user_id"`
	ByFacebookID string `yaml:"by_facebook_id"`
}

// SQLConfig configures an SQL connector.
type SQLConfig struct {
	Name string `yaml:"name"`
	// Label, Location and Safeguards describe the system to people: the
	// public notice and the records of processing (see Declared).
	Label      string       `yaml:"label"`
	Location   string       `yaml:"location"`
	Safeguards string       `yaml:"safeguards"`
	Driver     string       `yaml:"driver"` // postgres or sqlite
	DSN        string       `yaml:"dsn"`
	Tables     []SQLTable   `yaml:"tables"`
	Identity   *SQLIdentity `yaml:"identity"`
}

// SQL is an application database steward erases from directly.
type SQL struct {
	cfg SQLConfig
	db  *sql.DB
}

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// NewSQL checks the configuration and opens (lazily) the database.
func NewSQL(cfg SQLConfig) (*SQL, error) {
	driver := map[string]string{"postgres": "pgx", "sqlite": "sqlite"}[cfg.Driver]
	if driver == "" {
		return nil, fmt.Errorf("connector %s: driver must be postgres or sqlite", cfg.Name)
	}
	if cfg.DSN == "" {
		return nil, fmt.Errorf("connector %s: dsn is required", cfg.Name)
	}
	for i, t := range cfg.Tables {
		at := fmt.Sprintf("connector %s: tables[%d]", cfg.Name, i)
		if !ident.MatchString(t.Table) || !ident.MatchString(t.Key) {
			return nil, fmt.Errorf("%s: table and key must be plain SQL names", at)
		}
		switch t.Match {
		case "account_id", "email", "app_user_id":
		default:
			return nil, fmt.Errorf("%s: match must be account_id, email or app_user_id", at)
		}
		switch t.Action {
		case "delete":
		case "null", "overwrite":
			if len(t.Columns) == 0 {
				return nil, fmt.Errorf("%s: action %s needs columns", at, t.Action)
			}
		default:
			return nil, fmt.Errorf("%s: action must be delete, null or overwrite", at)
		}
		for _, c := range t.Columns {
			if !ident.MatchString(c) {
				return nil, fmt.Errorf("%s: column %q is not a plain SQL name", at, c)
			}
		}
		for c := range t.Deactivate {
			if !ident.MatchString(c) {
				return nil, fmt.Errorf("%s: deactivate column %q is not a plain SQL name", at, c)
			}
		}
	}
	db, err := sql.Open(driver, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("connector %s: %v", cfg.Name, err)
	}
	db.SetMaxOpenConns(4)
	return &SQL{cfg: cfg, db: db}, nil
}

// Name implements rights.Connector.
func (c *SQL) Name() string { return c.cfg.Name }

// Label implements rights.Labelled.
func (c *SQL) Label() string { return c.cfg.Label }

// Close closes the database.
func (c *SQL) Close() error { return c.db.Close() }

func (c *SQL) ph(n int) string {
	if c.cfg.Driver == "postgres" {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

func q(name string) string { return `"` + name + `"` }

func value(t SQLTable, s rights.Subject) string {
	switch t.Match {
	case "email":
		return s.Email
	case "app_user_id":
		return s.AppUserID
	}
	return s.AccountID
}

// Deactivate writes each table's deactivate columns in one transaction.
func (c *SQL) Deactivate(ctx context.Context, s rights.Subject) (rights.Result, error) {
	return c.each(ctx, s, func(tx *sql.Tx, t SQLTable, v string) (int64, bool, error) {
		if len(t.Deactivate) == 0 {
			return 0, false, nil
		}
		var sets []string
		var args []any
		for col, val := range t.Deactivate {
			args = append(args, val)
			sets = append(sets, q(col)+" = "+c.ph(len(args)))
		}
		args = append(args, v)
		res, err := tx.ExecContext(ctx, "UPDATE "+q(t.Table)+" SET "+strings.Join(sets, ", ")+" WHERE "+q(t.Key)+" = "+c.ph(len(args)), args...)
		return rowsAffected(res, err)
	}, "deactivated")
}

// Purge applies each table's action in one transaction.
func (c *SQL) Purge(ctx context.Context, s rights.Subject) (rights.Result, error) {
	return c.each(ctx, s, func(tx *sql.Tx, t SQLTable, v string) (int64, bool, error) {
		var res sql.Result
		var err error
		switch t.Action {
		case "delete":
			res, err = tx.ExecContext(ctx, "DELETE FROM "+q(t.Table)+" WHERE "+q(t.Key)+" = "+c.ph(1), v)
		default:
			var sets []string
			var args []any
			for _, col := range t.Columns {
				if t.Action == "null" {
					sets = append(sets, q(col)+" = NULL")
				} else {
					args = append(args, t.Overwrite)
					sets = append(sets, q(col)+" = "+c.ph(len(args)))
				}
			}
			args = append(args, v)
			res, err = tx.ExecContext(ctx, "UPDATE "+q(t.Table)+" SET "+strings.Join(sets, ", ")+" WHERE "+q(t.Key)+" = "+c.ph(len(args)), args...)
		}
		return rowsAffected(res, err)
	}, "")
}

func rowsAffected(res sql.Result, err error) (int64, bool, error) {
	if err != nil {
		return 0, true, err
	}
	n, err := res.RowsAffected()
	return n, true, err
}

// each runs fn for every table in one transaction: a step either happens
// in every table or in none.
func (c *SQL) each(ctx context.Context, s rights.Subject, fn func(*sql.Tx, SQLTable, string) (int64, bool, error), verb string) (rights.Result, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return rights.Result{}, fmt.Errorf("%s: %w", c.cfg.Name, err)
	}
	defer tx.Rollback()
	var total int64
	var parts []string
	for _, t := range c.cfg.Tables {
		v := value(t, s)
		if v == "" {
			parts = append(parts, t.Table+": no "+t.Match+" known, skipped")
			continue
		}
		n, acted, err := fn(tx, t, v)
		if err != nil {
			return rights.Result{}, fmt.Errorf("%s.%s: %w", c.cfg.Name, t.Table, err)
		}
		if !acted {
			continue
		}
		total += n
		word := verb
		if word == "" {
			word = map[string]string{"delete": "deleted", "null": "cleared", "overwrite": "overwrote"}[t.Action]
		}
		parts = append(parts, fmt.Sprintf("%s: %s %d rows", t.Table, word, n))
	}
	if err := tx.Commit(); err != nil {
		return rights.Result{}, fmt.Errorf("%s: %w", c.cfg.Name, err)
	}
	detail := strings.Join(parts, "; ")
	if detail == "" {
		detail = "nothing to " + strings.TrimSuffix(verb, "d")
	}
	return rights.Result{Count: total, Detail: detail}, nil
}

// Export returns every row of every table that is about the person.
func (c *SQL) Export(ctx context.Context, s rights.Subject) (rights.Export, error) {
	tables, err := c.tables(ctx, s)
	return rights.Export{Tables: tables, Attempts: 1}, err
}

func (c *SQL) tables(ctx context.Context, s rights.Subject) ([]rights.Table, error) {
	var out []rights.Table
	for _, t := range c.cfg.Tables {
		v := value(t, s)
		if v == "" {
			continue
		}
		rows, err := c.db.QueryContext(ctx, "SELECT * FROM "+q(t.Table)+" WHERE "+q(t.Key)+" = "+c.ph(1), v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c.cfg.Name, t.Table, err)
		}
		cols, _ := rows.Columns()
		tbl := rights.Table{Name: t.Table, Columns: cols}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				switch x := v.(type) {
				case nil:
				case []byte:
					row[i] = string(x)
				default:
					row[i] = fmt.Sprint(x)
				}
			}
			tbl.Rows = append(tbl.Rows, row)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, tbl)
	}
	return out, nil
}

// Check connects and makes sure every configured table and column exists.
func (c *SQL) Check(ctx context.Context) error {
	if err := c.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: cannot reach the database: %v", c.cfg.Name, err)
	}
	for _, t := range c.cfg.Tables {
		cols := append([]string{t.Key}, t.Columns...)
		for col := range t.Deactivate {
			cols = append(cols, col)
		}
		for i := range cols {
			cols[i] = q(cols[i])
		}
		if _, err := c.db.ExecContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+q(t.Table)+" WHERE 1 = 0"); err != nil {
			return fmt.Errorf("%s: table %s: %v", c.cfg.Name, t.Table, err)
		}
	}
	if c.cfg.Identity != nil {
		for _, qs := range []string{c.cfg.Identity.ByEmail, c.cfg.Identity.ByAppUserID, c.cfg.Identity.ByFacebookID} {
			if qs == "" {
				continue
			}
			rows, err := c.db.QueryContext(ctx, qs, "steward-connector-check")
			if err != nil {
				return fmt.Errorf("%s: identity query %q: %v", c.cfg.Name, qs, err)
			}
			rows.Close()
		}
	}
	return nil
}

// Resolve implements rights.Identity with the configured queries.
func (c *SQL) Resolve(ctx context.Context, by, value string) (rights.Account, error) {
	if c.cfg.Identity == nil {
		return rights.Account{}, fmt.Errorf("%s has no identity queries", c.cfg.Name)
	}
	query := map[string]string{rights.ByEmail: c.cfg.Identity.ByEmail, rights.ByAppUserID: c.cfg.Identity.ByAppUserID,
		rights.ByFacebookID: c.cfg.Identity.ByFacebookID}[by]
	if query == "" {
		return rights.Account{}, fmt.Errorf("%s cannot look accounts up by %s", c.cfg.Name, by)
	}
	var a rights.Account
	var id, email any
	err := c.db.QueryRowContext(ctx, query, value).Scan(&id, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return a, rights.ErrNoAccount
	}
	if err != nil {
		return a, fmt.Errorf("%s: identity lookup: %v", c.cfg.Name, err)
	}
	a.ID, a.Email = str(id), str(email)
	return a, nil
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
