package rights

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Tick does the work the calendar causes: it rejects requests left
// unconfirmed or unanswered too long, resumes executions (after a crash,
// or once a grace period ends) and deletes expired access archives. The
// server calls it every minute; tests call it after moving a fake clock.
func (s *Service) Tick(ctx context.Context) error {
	now := s.Clock.Now().UTC()
	reject := func(r *store.Request, d workflow.Deadline) { r.RejectReason = d.Note }
	errs := []error{s.machine().Expire(ctx, reject, s.deadlines()...)}

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

// deadlines are how long a request may wait on the person: past them it
// is rejected, and the note is the reason the person reads.
func (s *Service) deadlines() []workflow.Deadline {
	return []workflow.Deadline{
		{State: state(WaitingForEmail), After: s.Config.ConfirmWithin, Action: workflow.Action(Reject), Note: "the e-mail address was not confirmed in time"},
		{State: state(WaitingForUser), After: s.Config.AnswerWithin, Action: workflow.Action(Reject), Note: "we did not hear back in time to our question"},
	}
}
