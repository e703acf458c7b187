package rights

import (
	"context"
	"errors"
	"os"
	"time"
)

// Tick does the work the calendar causes: it rejects requests left
// unconfirmed or unanswered too long, resumes executions (after a crash,
// or once a grace period ends) and deletes expired access archives. The
// server calls it every minute; tests call it after moving a fake clock.
func (s *Service) Tick(ctx context.Context) error {
	now := s.Clock.Now().UTC()
	var errs []error
	expire := func(st Status, within time.Duration, reason string) {
		reqs, err := s.Store.RequestsInStatus(ctx, string(st), now.Add(-within))
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, r := range reqs {
			r.RejectReason = reason
			if _, err := s.transition(ctx, r, Reject, "system", reason, nil); err != nil && !errors.Is(err, ErrChanged) {
				errs = append(errs, err)
			}
		}
	}
	expire(WaitingForEmail, s.Config.ConfirmWithin, "the e-mail address was not confirmed in time")
	expire(WaitingForUser, s.Config.AnswerWithin, "we did not hear back in time to our question")

	running, err := s.Store.RequestsInStatus(ctx, string(InProgress), now.Add(time.Second))
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range running {
		if _, err := s.Run(ctx, r.ID); err != nil {
			var se *StepError
			if !errors.As(err, &se) && !errors.Is(err, ErrChanged) {
				errs = append(errs, err)
			}
		}
	}
	done, err := s.Store.RequestsInStatus(ctx, string(Done), now.Add(time.Second))
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range done {
		if r.ExportPath != "" && !now.Before(r.ExportExpiresAt) {
			if err := os.Remove(r.ExportPath); err == nil {
				s.Log.Info("access archive expired and deleted", "request", r.ID)
			}
		}
	}
	return errors.Join(errs...)
}
