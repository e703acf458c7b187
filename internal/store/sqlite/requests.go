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

func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]store.Request, int, error) {
	where := " WHERE 1=1"
	var args []any
	for col, v := range map[string]string{"status": f.Status, "type": f.Type, "channel": f.Channel} {
		if v != "" {
			where += " AND " + col + " = ?"
			args = append(args, v)
		}
	}
	if !f.From.IsZero() {
		where += " AND created_at >= ?"
		args = append(args, us(f.From))
	}
	if !f.To.IsZero() {
		where += " AND created_at < ?"
		args = append(args, us(f.To))
	}
	if f.Search != "" {
		where += " AND (id = ? OR email >= ? AND email < ?)"
		args = append(args, f.Search, strings.ToLower(f.Search), strings.ToLower(f.Search)+"\U0010FFFF")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM requests"+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap(err)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+requestCols+" FROM requests"+where+" ORDER BY created_at DESC, id LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
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
