package rights

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// TestOffers: the portal offers an action only when it can work, and the
// action refuses the same cases with the same reason.
func TestOffers(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name                               string
		r                                  store.Request
		take, ask, execute, reject, extend bool
		noAsk, noExecute                   string
	}{
		{"received", store.Request{Status: string(Received), Email: "a@example.org"}, true, false, false, true, true, "", ""},
		{"confirmed, in progress", store.Request{Status: string(InProgress), Email: "a@example.org", EmailConfirmedAt: at}, false, true, true, true, true, "", ""},
		{"unconfirmed facebook", store.Request{Status: string(InProgress), Channel: ChannelFacebook, Email: "a@example.org"}, false, true, false, true, true, "", "has not confirmed"},
		{"no address", store.Request{Status: string(InProgress), Channel: ChannelFacebook}, false, false, false, true, true, "no e-mail address", "no e-mail address"},
		{"extended", store.Request{Status: string(WaitingForUser), Email: "a@example.org", ExtensionReason: "x"}, false, false, false, true, false, "", ""},
		{"done", store.Request{Status: string(Done), Email: "a@example.org", EmailConfirmedAt: at}, false, false, false, false, false, "", ""},
	} {
		o := Offers(c.r)
		if o.Take != c.take || o.Ask != c.ask || o.Execute != c.execute || o.Reject != c.reject || o.Extend != c.extend ||
			!strings.Contains(o.NoAsk, c.noAsk) || !strings.Contains(o.NoExecute, c.noExecute) || (c.noAsk == "") != (o.NoAsk == "") || (c.noExecute == "") != (o.NoExecute == "") {
			t.Errorf("%s: %+v", c.name, o)
		}
	}

	s, _, _ := newService(t)
	ctx := context.Background()
	sub, err := s.Submit(ctx, Intake{Channel: ChannelFacebook, Type: Erasure, FacebookUserID: "42"})
	if err != nil || sub.Request.Email != "" {
		t.Fatalf("facebook request: %+v %v", sub.Request, err)
	}
	if _, err := s.Take(ctx, sub.Request.ID, "support"); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Request(ctx, sub.Request.ID)
	o := Offers(r)
	if _, err := s.AskUser(ctx, r.ID, "support", "Who are you?"); !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), o.NoAsk) {
		t.Errorf("a question without an address: %v", err)
	}
	if _, err := s.Execute(ctx, r.ID, "support"); !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), o.NoExecute) {
		t.Errorf("execute without confirmation: %v", err)
	}
}

// flaky fails its first calls the way a webhook does, reporting how many
// calls each run made.
type flaky struct{ fail, calls int }

func (f *flaky) Name() string { return "app" }
func (f *flaky) Deactivate(context.Context, Subject) (Result, error) {
	if f.fail > 0 {
		f.fail--
		return Result{Attempts: 3}, errors.New("app answered HTTP 503")
	}
	return Result{Count: 1, Detail: "deactivated", Attempts: 1}, nil
}
func (f *flaky) Purge(context.Context, Subject) (Result, error)  { return Result{Count: 1}, nil }
func (f *flaky) Export(context.Context, Subject) (Export, error) { return Export{}, nil }
func (f *flaky) Check(context.Context) error                     { return nil }

// TestAttemptsCountEveryCall: a step's attempts are the calls made to the
// system, its connector's own retries included, across runs.
func TestAttemptsCountEveryCall(t *testing.T) {
	s, _, _ := newService(t)
	f := &flaky{fail: 1}
	s.Connectors = []Connector{f}
	ctx := context.Background()
	r := confirmed(t, s, "ann@example.org")
	var se *StepError
	if _, err := s.Execute(ctx, r.ID, "support"); !errors.As(err, &se) || strings.Contains(err.Error(), "attempt") {
		t.Fatalf("first run: %v", err)
	}
	steps, _ := s.Store.RequestSteps(ctx, r.ID)
	if st := stepOf(steps, "app", PhaseDeactivate); st.Status != StepFailed || st.Attempts != 3 {
		t.Fatalf("after the failed run: %+v", st)
	}
	if _, err := s.Run(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	steps, _ = s.Store.RequestSteps(ctx, r.ID)
	if st := stepOf(steps, "app", PhaseDeactivate); st.Status != StepDone || st.Attempts != 4 {
		t.Fatalf("after the retry: %+v", st)
	}
}

func stepOf(steps []store.RequestStep, connector, phase string) store.RequestStep {
	for _, st := range steps {
		if st.Connector == connector && st.Phase == phase {
			return st
		}
	}
	return store.RequestStep{}
}

func TestLawWords(t *testing.T) {
	for l, want := range map[Law]string{{Months: 1}: "one month", {Days: 45}: "45 days", {Months: 2}: "two months", {Months: 1, Days: 1}: "one month and one day"} {
		if got := l.Words(); got != want {
			t.Errorf("%+v: %q, want %q", l, got, want)
		}
	}
	if (Law{Months: 1}).ExtensionWords() != "" || (Law{ExtendMonths: 2}).ExtensionWords() != "two months" {
		t.Error("extension words")
	}
}
