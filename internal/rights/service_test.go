package rights

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/sqlite"
	"github.com/steward-privacy/steward/internal/workflow"
)

// The whole store is one way to satisfy the service's narrow one.
var _ Store = store.Store(nil)

// recorder stands in for an application holding the subject's data: it
// counts what it was asked to do.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *recorder) Name() string { return "app" }

func (c *recorder) count(phase string, s Subject) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[phase+" "+s.RequestID]++
	return Result{Count: 1, Detail: phase + "d"}, nil
}

func (c *recorder) Deactivate(_ context.Context, s Subject) (Result, error) {
	return c.count("deactivate", s)
}
func (c *recorder) Purge(_ context.Context, s Subject) (Result, error) { return c.count("purge", s) }
func (c *recorder) Export(context.Context, Subject) (Export, error)    { return Export{}, nil }
func (c *recorder) Check(context.Context) error                        { return nil }

func newService(t *testing.T) (*Service, *clock.Fake, *recorder) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keyer, err := minimise.NewKeyer([]byte("a test hashing key of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	cfg := DefaultConfig("http://steward.test")
	cfg.Grace = 0
	rec := &recorder{calls: map[string]int{}}
	return &Service{Store: st, Keyer: keyer, Clock: c, Log: slog.New(slog.DiscardHandler), Config: cfg, Connectors: []Connector{rec}}, c, rec
}

var codeParam = regexp.MustCompile(`[?&]code=([a-z2-9]+)`)

// confirmed submits an erasure, confirms it with the e-mailed code and
// lets support take it.
func confirmed(t *testing.T, s *Service, email string) store.Request {
	t.Helper()
	ctx := context.Background()
	sub, err := s.Submit(ctx, Intake{Channel: ChannelWeb, Type: Erasure, Email: email, Acknowledged: true})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Request.ID
	mails, err := s.Store.ListOutbox(ctx, "request:"+id+":confirm", 1)
	if err != nil || len(mails) != 1 {
		t.Fatalf("confirmation mail: %v %v", mails, err)
	}
	if codeParam.MatchString(mails[0].Body) {
		t.Fatalf("the code is in the stored mail in clear: %q", mails[0].Body)
	}
	sent, err := s.sealer().Open(mails[0])
	if err != nil {
		t.Fatal(err)
	}
	code := codeParam.FindStringSubmatch(sent.Body)
	if code == nil {
		t.Fatalf("no code in %q", sent.Body)
	}
	if _, err := s.Confirm(ctx, id, s.statusToken(id), code[1]); err != nil {
		t.Fatal(err)
	}
	r, err := s.Take(ctx, id, "support")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExecutionsReleaseTheirLocks: runs of one request are serialised
// (each connector phase runs once however many runs race), and once they
// are over no per-request lock is left behind.
func TestExecutionsReleaseTheirLocks(t *testing.T) {
	s, _, rec := newService(t)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		ids = append(ids, confirmed(t, s, fmt.Sprintf("p%d@example.org", i)).ID)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Execute(ctx, id, "support"); err != nil && !errors.Is(err, ErrChanged) {
				t.Error(err)
			}
		}()
		for range 3 { // the scheduler and a retry, at the same time
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Run(ctx, id); err != nil && !errors.Is(err, ErrChanged) {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	if n := runs.Len(); n != 0 {
		t.Fatalf("%d per-request locks left after every execution ended", n)
	}
	for _, id := range ids {
		d, err := s.Detail(ctx, id)
		if err != nil || Status(d.Request.Status) != Done || d.Request.Receipt == "" {
			t.Fatalf("%s: %+v %v", id, d.Request, err)
		}
		if rec.calls["deactivate "+id] != 1 || rec.calls["purge "+id] != 1 {
			t.Fatalf("%s: connector calls %v", id, rec.calls)
		}
		var kinds []string
		for _, m := range d.Messages {
			kinds = append(kinds, m.Ref[strings.LastIndexByte(m.Ref, ':')+1:])
		}
		if strings.Join(kinds, " ") != "confirm received done" {
			t.Fatalf("%s: messages %v", id, kinds)
		}
		// Which caller took the request first decides whether a staff note
		// is among the entries; the transitions are the same every time.
		var path []string
		for _, h := range d.History {
			if h.From != h.To {
				path = append(path, h.To)
			}
		}
		if strings.Join(path, " ") != "waiting_for_email_confirmation received in_progress done" || len(d.Steps) != 3 {
			t.Fatalf("%s: transitions %v, %d steps", id, path, len(d.Steps))
		}
	}
}

// TestRefusedTransitionsKeepTheirWords: the person reads the service's
// words; the table's error is underneath for code.
func TestRefusedTransitionsKeepTheirWords(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	r := confirmed(t, s, "q@example.org")
	_, err := s.Take(ctx, r.ID, "support")
	var re *workflow.RefusedError
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "a request that is in progress cannot be taken") {
		t.Fatalf("take twice: %v", err)
	}
	if _, err := Next(Done, Take); !errors.As(err, &re) || re.From != "done" || re.To != "in_progress" || re.Action != "take" {
		t.Fatalf("underlying refusal: %v", err)
	}
}

// TestDeadlinesRejectOnTheServiceClock: an unconfirmed request is
// rejected only once ConfirmWithin has passed on the injected clock, with
// the reason the person reads and an e-mail saying so.
func TestDeadlinesRejectOnTheServiceClock(t *testing.T) {
	s, c, _ := newService(t)
	ctx := context.Background()
	sub, err := s.Submit(ctx, Intake{Channel: ChannelWeb, Type: Access, Email: "late@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(s.Config.ConfirmWithin)
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Detail(ctx, sub.Request.ID); Status(d.Request.Status) != WaitingForEmail {
		t.Fatalf("rejected on the deadline, not after it: %s", d.Request.Status)
	}
	c.Advance(time.Second)
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := s.Detail(ctx, sub.Request.ID)
	last := d.History[len(d.History)-1]
	if err != nil || Status(d.Request.Status) != Rejected || d.Request.RejectReason != "the e-mail address was not confirmed in time" ||
		last.Actor != "system" || last.From != string(WaitingForEmail) || !d.Request.StatusAt.Equal(c.Now()) {
		t.Fatalf("after the deadline: %+v %+v %v", d.Request, last, err)
	}
	if m := d.Messages[len(d.Messages)-1]; !strings.HasSuffix(m.Ref, ":rejected") || !strings.Contains(m.Body, "not confirmed in time") {
		t.Fatalf("rejection mail: %+v", m)
	}
}

// TestMailsSealTheirLinks: every mail a request causes names its links
// only by placeholder, seals them bound to the message, and opens (as the
// worker does before sending) to the working links. Text from people
// cannot pose as a placeholder.
func TestMailsSealTheirLinks(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	r := confirmed(t, s, "m@example.org")
	if _, err := s.Extend(ctx, r.ID, "support", "see ⟦status page link⟧"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AskUser(ctx, r.ID, "support", "Is ⟦confirmation link⟧ yours?"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RejectRequest(ctx, r.ID, "support", "you sent us "+s.StatusURL(r.ID)+", but no answer"); err != nil {
		t.Fatal(err)
	}
	d, err := s.Detail(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	token := s.statusToken(r.ID)
	var kinds []string
	for _, m := range d.Messages {
		kind := m.Ref[strings.LastIndexByte(m.Ref, ':')+1:]
		kinds = append(kinds, kind)
		if m.Kind != store.OutboxEmail {
			continue
		}
		if strings.Contains(m.Subject+m.Body, token) || !strings.Contains(m.Body, "⟦status page link⟧") || len(m.SealedSecrets) == 0 {
			t.Errorf("%s as stored: %q, sealed %d bytes", kind, m.Body, len(m.SealedSecrets))
			continue
		}
		sent, err := s.sealer().Open(m)
		if err != nil || !strings.Contains(sent.Body, s.StatusURL(r.ID)) || strings.Contains(sent.Body, "⟦") {
			t.Errorf("%s as sent: %q %v", kind, sent.Body, err)
		}
		if kind == "confirm" && !strings.Contains(sent.Body, "/confirm?token="+token+"&code=") {
			t.Errorf("confirmation as sent: %q", sent.Body)
		}
		if kind == "question" && !strings.Contains(sent.Body, "Is [confirmation link] yours?") {
			t.Errorf("question as sent: %q", sent.Body)
		}
		if kind == "extended" && !strings.Contains(sent.Body, "see [status page link]") {
			t.Errorf("extension as sent: %q", sent.Body)
		}
		if kind == "rejected" && !strings.Contains(sent.Body, "?token=(token removed), but no answer") {
			t.Errorf("rejection as sent: %q", sent.Body)
		}
	}
	if got := strings.Join(kinds, " "); got != "confirm received extended question rejected" {
		t.Fatalf("messages: %s", got)
	}
}
