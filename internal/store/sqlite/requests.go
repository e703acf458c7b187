package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

const requestCols = "id, status_token_hash, channel, type, status, email, app_user_id, facebook_user_id, subject_key, account_id, law, due_at, extension_reason, email_confirmed_at, confirm_hash, confirmation_code, question, answer, reject_reason, assignee, grace_until, export_path, export_expires_at, receipt, created_at, updated_at, status_at, version, glean_client_id"

func requestArgs(r *store.Request) []any {
	return []any{r.ID, r.StatusTokenHash, r.Channel, r.Type, r.Status, r.Email, r.AppUserID, r.FacebookUserID, r.SubjectKey,
		r.AccountID, r.Law, us(r.DueAt), r.ExtensionReason, us(r.EmailConfirmedAt), r.ConfirmHash, r.ConfirmationCode,
		r.Question, r.Answer, r.RejectReason, r.Assignee, us(r.GraceUntil), r.ExportPath, us(r.ExportExpiresAt), r.Receipt,
		us(r.CreatedAt), us(r.UpdatedAt), us(r.StatusAt), r.Version, r.GleanClientID}
}

type scanner interface{ Scan(...any) error }

func scanRequest(row scanner) (store.Request, error) {
	var r store.Request
	var due, confirmed, grace, exportExp, created, updated, statusAt int64
	err := row.Scan(&r.ID, &r.StatusTokenHash, &r.Channel, &r.Type, &r.Status, &r.Email, &r.AppUserID, &r.FacebookUserID,
		&r.SubjectKey, &r.AccountID, &r.Law, &due, &r.ExtensionReason, &confirmed, &r.ConfirmHash, &r.ConfirmationCode,
		&r.Question, &r.Answer, &r.RejectReason, &r.Assignee, &grace, &r.ExportPath, &exportExp, &r.Receipt,
		&created, &updated, &statusAt, &r.Version, &r.GleanClientID)
	r.DueAt, r.EmailConfirmedAt, r.GraceUntil, r.ExportExpiresAt = tm(due), tm(confirmed), tm(grace), tm(exportExp)
	r.CreatedAt, r.UpdatedAt, r.StatusAt = tm(created), tm(updated), tm(statusAt)
	return r, err
}

func (s *Store) GetRequest(ctx context.Context, id string) (store.Request, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, "SELECT "+requestCols+" FROM requests WHERE id = ?", id))
	return r, wrap(err)
}

func (s *Store) RequestBySubject(ctx context.Context, subjectKey, typ string) (store.Request, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, "SELECT "+requestCols+" FROM requests WHERE subject_key = ? AND type = ? AND status <> 'rejected' ORDER BY created_at DESC LIMIT 1", subjectKey, typ))
	return r, wrap(err)
}

// listCols are requestCols without the receipt, which a list never shows.
var listCols = strings.Replace(requestCols, "receipt,", "'' AS receipt,", 1)

func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]store.Request, int, error) {
	where := " WHERE 1=1"
	var args []any
	add := func(cond string, v ...any) {
		where += " AND " + cond
		args = append(args, v...)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if len(f.AnyStatus) > 0 {
		add("status IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.AnyStatus)), ",")+")", anys(f.AnyStatus)...)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if !f.From.IsZero() {
		add("created_at >= ?", us(f.From))
	}
	if !f.To.IsZero() {
		add("created_at < ?", us(f.To))
	}
	if !f.DueFrom.IsZero() {
		add("due_at >= ?", us(f.DueFrom))
	}
	if !f.DueBefore.IsZero() {
		add("due_at < ?", us(f.DueBefore))
	}
	if f.Search != "" {
		add("(id = ? OR email >= ? AND email < ?)", f.Search, strings.ToLower(f.Search), strings.ToLower(f.Search)+"\U0010FFFF")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM requests"+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap(err)
	}
	// The page's rowids come from requests_list alone, in order: a deep
	// page skips index entries, not rows, and only the page's own rows are
	// read. Without statistics SQLite would rather sort a status's rows,
	// so the index is named; a search is found through the e-mail index.
	from := " FROM requests INDEXED BY requests_list"
	if f.Search != "" {
		from = " FROM requests"
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+listCols+" FROM requests WHERE rowid IN (SELECT rowid"+from+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?) ORDER BY created_at DESC, id DESC", append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	var out []store.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, 0, wrap(err)
		}
		out = append(out, r)
	}
	return out, total, wrap(rows.Err())
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (s *Store) CountRequests(ctx context.Context, open []string, now, soon time.Time) (store.RequestCounts, error) {
	c := store.RequestCounts{ByStatus: map[string]int{}}
	rows, err := s.r.QueryContext(ctx, "SELECT status, count(*) FROM requests GROUP BY status")
	if err != nil {
		return c, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return c, wrap(err)
		}
		c.ByStatus[st] = n
	}
	if err := rows.Err(); err != nil || len(open) == 0 {
		return c, wrap(err)
	}
	// One range scan per open status of the (status, due_at) index.
	in := "status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(open)), ",") + ")"
	args := append([]any{us(now), us(now)}, anys(open)...)
	err = s.r.QueryRowContext(ctx, "SELECT count(*) FILTER (WHERE due_at < ?), count(*) FILTER (WHERE due_at >= ?) FROM requests WHERE "+in+" AND due_at > 0 AND due_at < ?",
		append(args, us(soon))...).Scan(&c.Overdue, &c.DueSoon)
	return c, wrap(err)
}

func (s *Store) RequestFlows(ctx context.Context, closed []string, origin time.Time, period time.Duration) ([]store.RequestFlow, error) {
	in := "status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(closed)), ",") + ")"
	if len(closed) == 0 {
		in = "0"
	}
	o, p := us(origin), period.Microseconds()
	args := []any{o, p, o, o, p}
	args = append(args, anys(closed)...)
	args = append(args, o)
	rows, err := s.r.QueryContext(ctx, `SELECT bucket, channel, sum(opened), sum(closed) FROM (
		SELECT (created_at - ?) / ? AS bucket, channel, 1 AS opened, 0 AS closed FROM requests WHERE created_at >= ?
		UNION ALL
		SELECT (status_at - ?) / ?, channel, 0, 1 FROM requests WHERE `+in+` AND status_at >= ?
	) GROUP BY bucket, channel ORDER BY bucket, channel`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RequestFlow
	for rows.Next() {
		var b int64
		var f store.RequestFlow
		if err := rows.Scan(&b, &f.Channel, &f.Opened, &f.Closed); err != nil {
			return nil, wrap(err)
		}
		f.Start = origin.Add(time.Duration(b) * period).UTC()
		out = append(out, f)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RequestCompletions(ctx context.Context, status string, since time.Time) ([]store.RequestCompletion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT (status_at - created_at) / 86400000000 AS days, due_at > 0 AND status_at > due_at AS late, count(*)
		FROM requests WHERE status = ? AND status_at >= ? GROUP BY days, late ORDER BY days, late`, status, us(since))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RequestCompletion
	for rows.Next() {
		var c store.RequestCompletion
		if err := rows.Scan(&c.Days, &c.Late, &c.Count); err != nil {
			return nil, wrap(err)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RequestsInStatus(ctx context.Context, status string, before time.Time) ([]store.Request, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+requestCols+" FROM requests WHERE status = ? AND status_at < ? ORDER BY status_at", status, us(before))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, wrap(err)
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RequestHistory(ctx context.Context, id string) ([]store.RequestEvent, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, request_id, at, actor, from_status, to_status, note FROM request_events WHERE request_id = ? ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RequestEvent
	for rows.Next() {
		var e store.RequestEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.RequestID, &at, &e.Actor, &e.From, &e.To, &e.Note); err != nil {
			return nil, wrap(err)
		}
		e.At = tm(at)
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

func (s *Store) SaveStep(ctx context.Context, st store.RequestStep) error {
	_, err := s.w.ExecContext(ctx, `INSERT OR REPLACE INTO request_steps(request_id, connector, phase, status, count, detail, error, attempts, started_at, finished_at)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, st.RequestID, st.Connector, st.Phase, st.Status, st.Count, st.Detail, st.Error, st.Attempts, us(st.StartedAt), us(st.FinishedAt))
	return wrap(err)
}

func (s *Store) RequestSteps(ctx context.Context, id string) ([]store.RequestStep, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT request_id, connector, phase, status, count, detail, error, attempts, started_at, finished_at FROM request_steps WHERE request_id = ? ORDER BY started_at, connector, phase", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RequestStep
	for rows.Next() {
		var st store.RequestStep
		var started, finished int64
		if err := rows.Scan(&st.RequestID, &st.Connector, &st.Phase, &st.Status, &st.Count, &st.Detail, &st.Error, &st.Attempts, &started, &finished); err != nil {
			return nil, wrap(err)
		}
		st.StartedAt, st.FinishedAt = tm(started), tm(finished)
		out = append(out, st)
	}
	return out, wrap(rows.Err())
}
