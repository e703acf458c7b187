package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

const requestCols = "id, status_token_hash, channel, type, status, email, app_user_id, facebook_user_id, subject_key, account_id, law, due_at, extension_reason, email_confirmed_at, confirm_hash, confirmation_code, question, answer, reject_reason, assignee, grace_until, export_path, export_expires_at, receipt, created_at, updated_at, status_at, version, glean_client_id"

func requestArgs(r *store.Request) []any {
	return []any{r.ID, r.StatusTokenHash, r.Channel, r.Type, r.Status, r.Email, r.AppUserID, r.FacebookUserID, r.SubjectKey,
		r.AccountID, r.Law, nullTime(r.DueAt), r.ExtensionReason, nullTime(r.EmailConfirmedAt), r.ConfirmHash, r.ConfirmationCode,
		r.Question, r.Answer, r.RejectReason, r.Assignee, nullTime(r.GraceUntil), r.ExportPath, nullTime(r.ExportExpiresAt), r.Receipt,
		r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.StatusAt.UTC(), r.Version, r.GleanClientID}
}

func scanRequest(row pgx.Row) (store.Request, error) {
	var r store.Request
	var due, confirmed, grace, exportExp *time.Time
	err := row.Scan(&r.ID, &r.StatusTokenHash, &r.Channel, &r.Type, &r.Status, &r.Email, &r.AppUserID, &r.FacebookUserID,
		&r.SubjectKey, &r.AccountID, &r.Law, &due, &r.ExtensionReason, &confirmed, &r.ConfirmHash, &r.ConfirmationCode,
		&r.Question, &r.Answer, &r.RejectReason, &r.Assignee, &grace, &r.ExportPath, &exportExp, &r.Receipt,
		&r.CreatedAt, &r.UpdatedAt, &r.StatusAt, &r.Version, &r.GleanClientID)
	r.DueAt, r.EmailConfirmedAt, r.GraceUntil, r.ExportExpiresAt = fromNull(due), fromNull(confirmed), fromNull(grace), fromNull(exportExp)
	r.CreatedAt, r.UpdatedAt, r.StatusAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.StatusAt.UTC()
	return r, err
}

func placeholders(n, from int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

func (s *Store) GetRequest(ctx context.Context, id string) (store.Request, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, "SELECT "+requestCols+" FROM requests WHERE id = $1", id))
	return r, wrap(err)
}

func (s *Store) RequestBySubject(ctx context.Context, subjectKey, typ string) (store.Request, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, "SELECT "+requestCols+" FROM requests WHERE subject_key = $1 AND type = $2 AND status <> 'rejected' ORDER BY created_at DESC LIMIT 1", subjectKey, typ))
	return r, wrap(err)
}

// listCols are requestCols without the receipt, which a list never shows.
var listCols = strings.Replace(requestCols, "receipt,", "'' AS receipt,", 1)

func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]store.Request, int, error) {
	where := " WHERE true"
	var args []any
	add := func(cond string, v ...any) {
		for _, x := range v {
			args = append(args, x)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where += " AND " + cond
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if len(f.AnyStatus) > 0 {
		add("status = ANY(?)", f.AnyStatus)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if !f.From.IsZero() {
		add("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("created_at < ?", f.To)
	}
	if !f.DueFrom.IsZero() {
		add("due_at >= ?", f.DueFrom)
	}
	if !f.DueBefore.IsZero() {
		add("due_at < ?", f.DueBefore)
	}
	if f.Search != "" {
		add("(id = ? OR email LIKE ? ESCAPE '\\')", f.Search, likePrefix(strings.ToLower(f.Search)))
	}
	var total int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM requests"+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap(err)
	}
	n := len(args)
	// The page's ids come from the (created_at, id) index alone, so a deep
	// page skips index entries, not whole rows; only the page's own rows
	// are read.
	rows, err := s.pool.Query(ctx, "SELECT "+listCols+" FROM requests WHERE id IN (SELECT id FROM requests"+where+
		" ORDER BY created_at DESC, id DESC LIMIT $"+strconv.Itoa(n+1)+" OFFSET $"+strconv.Itoa(n+2)+") ORDER BY created_at DESC, id DESC",
		append(args, f.Limit, f.Offset)...)
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

func (s *Store) CountRequests(ctx context.Context, open []string, now, soon time.Time) (store.RequestCounts, error) {
	c := store.RequestCounts{ByStatus: map[string]int{}}
	rows, err := s.pool.Query(ctx, "SELECT status, count(*) FROM requests GROUP BY status")
	if err != nil {
		return c, wrap(err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return c, wrap(err)
		}
		c.ByStatus[st] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(open) == 0 {
		return c, wrap(err)
	}
	// One range scan per open status of the (status, due_at) index.
	err = s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE due_at < $1), count(*) FILTER (WHERE due_at >= $1)
		FROM requests WHERE status = ANY($2) AND due_at < $3`, now.UTC(), open, soon.UTC()).Scan(&c.Overdue, &c.DueSoon)
	return c, wrap(err)
}

func (s *Store) RequestFlows(ctx context.Context, closed []string, origin time.Time, period time.Duration) ([]store.RequestFlow, error) {
	rows, err := s.pool.Query(ctx, `SELECT bucket, channel, sum(opened), sum(closed) FROM (
		SELECT floor(extract(epoch FROM created_at - $1) / $2)::bigint AS bucket, channel, 1 AS opened, 0 AS closed FROM requests WHERE created_at >= $1
		UNION ALL
		SELECT floor(extract(epoch FROM status_at - $1) / $2)::bigint, channel, 0, 1 FROM requests WHERE status = ANY($3) AND status_at >= $1
	) AS f GROUP BY bucket, channel ORDER BY bucket, channel`, origin.UTC(), period.Seconds(), closed)
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
	rows, err := s.pool.Query(ctx, `SELECT floor(extract(epoch FROM status_at - created_at) / 86400)::int AS days, coalesce(status_at > due_at, false) AS late, count(*)
		FROM requests WHERE status = $1 AND status_at >= $2 GROUP BY days, late ORDER BY days, late`, status, since.UTC())
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

// likePrefix escapes LIKE's wildcards so a search for "a_b" means that.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func (s *Store) RequestsInStatus(ctx context.Context, status string, before time.Time) ([]store.Request, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+requestCols+" FROM requests WHERE status = $1 AND status_at < $2 ORDER BY status_at", status, before.UTC())
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
	rows, err := s.pool.Query(ctx, "SELECT id, request_id, at, actor, from_status, to_status, note FROM request_events WHERE request_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RequestEvent
	for rows.Next() {
		var e store.RequestEvent
		if err := rows.Scan(&e.ID, &e.RequestID, &e.At, &e.Actor, &e.From, &e.To, &e.Note); err != nil {
			return nil, wrap(err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

func (s *Store) SaveStep(ctx context.Context, st store.RequestStep) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO request_steps(request_id, connector, phase, status, count, detail, error, attempts, started_at, finished_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (request_id, connector, phase) DO UPDATE SET status = EXCLUDED.status, count = EXCLUDED.count, detail = EXCLUDED.detail,
		error = EXCLUDED.error, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at`,
		st.RequestID, st.Connector, st.Phase, st.Status, st.Count, st.Detail, st.Error, st.Attempts, nullTime(st.StartedAt), nullTime(st.FinishedAt))
	return wrap(err)
}

func (s *Store) RequestSteps(ctx context.Context, id string) ([]store.RequestStep, error) {
	rows, err := s.pool.Query(ctx, "SELECT request_id, connector, phase, status, count, detail, error, attempts, started_at, finished_at FROM request_steps WHERE request_id = $1 ORDER BY started_at, connector, phase", id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []store.RequestStep
	for rows.Next() {
		var st store.RequestStep
		var started, finished *time.Time
		if err := rows.Scan(&st.RequestID, &st.Connector, &st.Phase, &st.Status, &st.Count, &st.Detail, &st.Error, &st.Attempts, &started, &finished); err != nil {
			return nil, wrap(err)
		}
		st.StartedAt, st.FinishedAt = fromNull(started), fromNull(finished)
		out = append(out, st)
	}
	return out, wrap(rows.Err())
}
