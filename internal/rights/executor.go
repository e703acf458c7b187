package rights

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/subject"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Phases of execution.
const (
	PhaseDeactivate = "deactivate"
	PhasePurge      = "purge"
	PhaseExport     = "export"

	StepDone    = "done"
	StepFailed  = "failed"
	StepPending = "pending"

	// markerConnector's step records that execution was asked for, so a
	// restart resumes it.
	markerConnector = "*"
	phaseRequested  = "requested"
)

// runs serialises execution of one request within this process; across
// processes the version check on the final transition keeps it single.
// An entry lasts only while a run holds or waits for it.
var runs workflow.Locks

// Execute starts executing a request that is in progress: support's
// decision. It checks the identity, records the decision and runs what
// can run now (deactivation; purge after the grace period; or the export).
func (s *Service) Execute(ctx context.Context, id, actor string) (store.Request, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return r, err
	}
	if why := cannotExecute(r); why != "" {
		return r, fmt.Errorf("%w: %s", ErrNotReady, why)
	}
	// The identity check: the account must be the one whose e-mail the
	// requester proved to own.
	if s.Identity != nil && r.Channel != ChannelGlean {
		acct, err := s.resolve(ctx, r)
		var mismatch *mismatchError
		switch {
		case errors.As(err, &mismatch):
			r.RejectReason = "the confirmed e-mail address does not match the account's; we cannot act on an account for someone who has not shown it is theirs"
			return s.transition(ctx, r, Reject, "system", "identity check failed: "+mismatch.Error(), nil)
		case errors.Is(err, ErrNoAccount):
			// Nothing in the app; steward's own data may still exist.
		case err != nil:
			return r, fmt.Errorf("identity source: %w", err)
		default:
			r.AccountID = acct.ID
		}
	}
	now := s.Clock.Now().UTC()
	if err := s.Store.SaveStep(ctx, store.RequestStep{RequestID: r.ID, Connector: markerConnector, Phase: phaseRequested, Status: StepDone, Detail: "execution asked by " + actor, StartedAt: now, FinishedAt: now}); err != nil {
		return r, err
	}
	if r, err = s.note(ctx, r, actor, "execution started", nil); err != nil {
		return r, err
	}
	return s.Run(ctx, r.ID)
}

type mismatchError struct{ how string }

func (e *mismatchError) Error() string { return e.how }

// resolve finds the account by the app's user id (when the app sent one)
// or by e-mail, and insists the account's e-mail is the confirmed one.
func (s *Service) resolve(ctx context.Context, r store.Request) (Account, error) {
	by, value := ByEmail, r.Email
	switch {
	case r.AppUserID != "":
		by, value = ByAppUserID, r.AppUserID
	case r.FacebookUserID != "":
		by, value = ByFacebookID, r.FacebookUserID
	}
	acct, err := s.Identity.Resolve(ctx, by, value)
	if err != nil {
		return acct, err
	}
	if subject.Normalise(subject.Email, acct.Email) != subject.Normalise(subject.Email, r.Email) {
		return acct, &mismatchError{fmt.Sprintf("account found by %s has another e-mail address", by)}
	}
	return acct, nil
}

// Run does every step of an executing request that is not yet done, in
// order, and completes the request when all are. It is safe to call again
// at any time (after a crash, from the scheduler, on "retry"): finished
// steps are skipped.
func (s *Service) Run(ctx context.Context, id string) (store.Request, error) {
	defer runs.Lock(id)()
	r, err := s.get(ctx, id)
	if err != nil || Status(r.Status) != InProgress {
		return r, err
	}
	steps, err := s.Store.RequestSteps(ctx, id)
	if err != nil {
		return r, err
	}
	done := map[string]bool{}
	requested := false
	for _, st := range steps {
		if st.Status == StepDone {
			done[st.Connector+"/"+st.Phase] = true
		}
		if st.Connector == markerConnector && st.Phase == phaseRequested {
			requested = true
		}
	}
	if !requested {
		return r, nil
	}
	subj := Subject{RequestID: r.ID, Email: r.Email, AccountID: r.AccountID, AppUserID: r.AppUserID, FacebookUserID: r.FacebookUserID, GleanClientID: r.GleanClientID}
	if r.Type == Access {
		return s.runExport(ctx, r, subj, done)
	}
	if err := s.runPhase(ctx, r, subj, PhaseDeactivate, done); err != nil {
		if errors.Is(err, errPending) {
			return r, nil
		}
		return r, err
	}
	now := s.Clock.Now().UTC()
	if r.GraceUntil.IsZero() {
		r.GraceUntil = now.Add(s.Config.Grace)
		note := fmt.Sprintf("deactivated in every system; purge after %s", r.GraceUntil.Format("2006-01-02 15:04 MST"))
		if r, err = s.note(ctx, r, "system", note, nil); err != nil {
			return r, err
		}
	}
	if now.Before(r.GraceUntil) {
		return r, nil // the scheduler comes back after the grace period
	}
	if err := s.runPhase(ctx, r, subj, PhasePurge, done); err != nil {
		if errors.Is(err, errPending) {
			return r, nil
		}
		return r, err
	}
	receipt, err := s.receipt(ctx, r)
	if err != nil {
		return r, err
	}
	r.Receipt = receipt
	return s.transition(ctx, r, Complete, "system", "erased in every system; receipt signed", nil)
}

// runPhase runs one phase over every connector not yet done with it; the
// first failure is recorded on its step and stops the phase.
func (s *Service) runPhase(ctx context.Context, r store.Request, subj Subject, phase string, done map[string]bool) error {
	for _, c := range s.Connectors {
		if done[c.Name()+"/"+phase] {
			continue
		}
		started := s.Clock.Now().UTC()
		var res Result
		var err error
		if g, ok := c.(GleanConnector); subj.GleanClientID != "" && (!ok || !g.GleanClientIDs()) {
			res = Result{Detail: "skipped: a Glean client id identifies nobody in this system"}
		} else if phase == PhaseDeactivate {
			res, err = c.Deactivate(ctx, subj)
		} else {
			res, err = c.Purge(ctx, subj)
		}
		if err := s.saveStep(ctx, r.ID, c.Name(), phase, started, res, tries(res), err); err != nil {
			return err
		}
		if err != nil {
			return &StepError{Connector: c.Name(), Phase: phase, Err: err}
		}
		if res.Pending {
			return errPending
		}
	}
	return nil
}

// errPending stops a run until a connector's completion callback.
var errPending = errors.New("waiting for a connector's completion callback")

// CompleteStep records a connector's asynchronous completion and carries
// on with the request.
func (s *Service) CompleteStep(ctx context.Context, id, connector, phase string, res Result, stepErr error) error {
	prev, err := s.step(ctx, id, connector, phase)
	if err != nil {
		return err
	}
	if prev.Status != StepPending {
		return fmt.Errorf("%w: no step of %s in %s is waiting for completion", ErrNotReady, connector, phase)
	}
	// The callback reports on the call already counted; it is no new try.
	if err := s.saveStep(ctx, id, connector, phase, prev.StartedAt, res, 0, stepErr); err != nil {
		return err
	}
	_, err = s.Run(ctx, id)
	if errors.Is(err, errPending) {
		err = nil
	}
	return err
}

// tries is how many times a step's run tried its system: each call a
// connector made, its own retries included, so the portal's count, the
// error and the system's logs agree.
func tries(res Result) int { return max(res.Attempts, 1) }

// saveStep records a step, adding attempts to the tries counted before.
func (s *Service) saveStep(ctx context.Context, id, connector, phase string, started time.Time, res Result, attempts int, stepErr error) error {
	prev, _ := s.step(ctx, id, connector, phase)
	st := store.RequestStep{RequestID: id, Connector: connector, Phase: phase, Status: StepDone, Count: res.Count, Detail: res.Detail,
		Attempts: prev.Attempts + attempts, StartedAt: started, FinishedAt: s.Clock.Now().UTC()}
	if res.Pending && stepErr == nil {
		st.Status, st.FinishedAt = StepPending, time.Time{}
	}
	if stepErr != nil {
		st.Status, st.Error = StepFailed, truncate(stepErr.Error(), 500)
		s.Log.Warn("request step failed", "request", id, "connector", connector, "phase", phase, "err", st.Error)
	}
	return s.Store.SaveStep(ctx, st)
}

func (s *Service) step(ctx context.Context, id, connector, phase string) (store.RequestStep, error) {
	steps, err := s.Store.RequestSteps(ctx, id)
	for _, st := range steps {
		if st.Connector == connector && st.Phase == phase {
			return st, nil
		}
	}
	return store.RequestStep{}, err
}

// StepError is a connector's failure in one phase; the portal shows it.
type StepError struct {
	Connector, Phase string
	Err              error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s failed in %s: %v", e.Connector, e.Phase, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }
