package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/store"
)

// hookServer is an incoming-webhook endpoint that answers the queued
// status codes (then 200) and records what it accepted.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	bodies   []string
	types    []string
}

func startHook(t *testing.T, statuses ...int) *hookServer {
	h := &hookServer{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/services/SECRET") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if len(h.statuses) > 0 {
			code := h.statuses[0]
			h.statuses = h.statuses[1:]
			if code != http.StatusOK {
				w.WriteHeader(code)
				return
			}
		}
		h.bodies = append(h.bodies, string(b))
		h.types = append(h.types, r.Header.Get("Content-Type"))
		io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

func TestWebhook(t *testing.T) {
	e := newEnv(t)
	hook := startHook(t, http.StatusInternalServerError)
	closed := startHook(t)
	closed.Close() // a configured webhook that is down
	wh, err := notify.NewWebhook(map[string]string{
		"ops":  hook.URL + "/services/SECRET/B00/xyz",
		"down": closed.URL + "/services/SECRET/down",
	}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.worker.Webhook = wh
	body := `{"text":"Auskunft erledigt – BODY"}`
	e.enqueue(store.OutboxMessage{Kind: store.OutboxWebhook, To: "ops", Body: body, Ref: "w1"})
	e.enqueue(store.OutboxMessage{Kind: store.OutboxWebhook, To: "down", Body: body, Ref: "w2"})
	e.enqueue(store.OutboxMessage{Kind: store.OutboxWebhook, To: "nobody", Body: body, Ref: "w3"})
	e.enqueue(store.OutboxMessage{Kind: store.OutboxWebhook, To: "ops", Body: "not json BODY", Ref: "w4"})
	e.runOnce(4)

	w1 := e.get("w1")
	if w1.LastError != "webhook ops: HTTP 500" || !w1.NextAttemptAt.Equal(t0.Add(30*time.Second)) || !w1.SentAt.IsZero() {
		t.Fatalf("500 not retried: %+v", w1)
	}
	if w2 := e.get("w2"); !w2.FailedAt.IsZero() || !strings.HasPrefix(w2.LastError, "webhook down: ") {
		t.Fatalf("unreachable webhook not retried: %+v", w2)
	}
	if w3 := e.get("w3"); !w3.FailedAt.IsZero() || !strings.Contains(w3.LastError, "not configured") {
		t.Fatalf("unknown webhook not retried: %+v", w3)
	}
	if w4 := e.get("w4"); w4.FailedAt.IsZero() {
		t.Fatalf("invalid JSON not given up: %+v", w4)
	}
	all, _ := e.store.ListOutbox(context.Background(), "w", 10)
	for _, m := range all {
		if strings.Contains(m.LastError, "SECRET") || strings.Contains(m.LastError, "127.0.0.1") && strings.Contains(m.LastError, "/services") {
			t.Fatalf("webhook URL stored: %q", m.LastError)
		}
	}

	e.clock.Advance(30 * time.Second)
	e.runOnce(3) // w1 now succeeds; w2, w3 fail again
	if got := hook.received(); len(got) != 1 || got[0] != body || hook.types[0] != "application/json" {
		t.Fatalf("webhook received %q (%v)", got, hook.types)
	}
	if w1 := e.get("w1"); !w1.SentAt.Equal(t0.Add(30*time.Second)) || w1.Attempts != 2 {
		t.Fatalf("w1 after retry: %+v", w1)
	}
}

func TestWebhookConfig(t *testing.T) {
	for name, urls := range map[string]map[string]string{
		"plain http to a remote host": {"ops": "http://hooks.example.net/services/SECRET"},
		"no scheme":                   {"ops": "hooks.example.net/services/SECRET"},
		"other scheme":                {"ops": "ftp://hooks.example.net/SECRET"},
		"bad name":                    {"o ps": "https://hooks.example.net/services/SECRET"},
	} {
		_, err := notify.NewWebhook(urls, 0)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error shows the URL: %v", name, err)
		}
	}
	wh, err := notify.NewWebhook(map[string]string{"b": "https://hooks.example.net/x", "a": "http://localhost:9/x"}, 0)
	if err != nil || strings.Join(wh.Names(), ",") != "a,b" {
		t.Fatalf("%v %v", wh, err)
	}
}

// The worker is stopped while the SMTP server holds the message: its
// process is gone, and with it the database connection, so the outcome is
// never recorded. A second worker (another node, or the restarted one)
// picks the message up once the lease has run out. The first copy may or
// may not have reached the server; either way the message is delivered at
// least once, and every copy has the same Message-ID.
func TestCrashBeforeMarkingSent(t *testing.T) {
	for _, tc := range []struct {
		name          string
		firstAccepted bool
	}{
		{"server accepted the first copy", true},
		{"server never accepted the first copy", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			nodeA := openStore(t, e.path) // the node that crashes
			workerA := e.newWorker(nodeA)
			arrived, release := e.smtp.Hold()
			if !tc.firstAccepted {
				e.smtp.FailNext(1) // the held message is then answered 451
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { workerA.Run(ctx); close(done) }()
			msg := e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Subject: "s", Body: "BODY", Ref: "c1"})
			workerA.Wake()
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("worker A never sent")
			}
			// Crash: the database goes away with the process.
			nodeA.Close()
			cancel()
			release()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("worker A did not stop")
			}
			row := e.get("c1")
			if !row.SentAt.IsZero() || !row.FailedAt.IsZero() || row.Attempts != 1 || !row.NextAttemptAt.Equal(t0.Add(notify.DefaultLease)) {
				t.Fatalf("after the crash: %+v", row)
			}

			// Restart: nothing happens before the lease ends.
			e.runOnce(0)
			e.clock.Advance(notify.DefaultLease)
			e.runOnce(1)
			row = e.get("c1")
			if row.SentAt.IsZero() || row.Attempts != 2 {
				t.Fatalf("not delivered after restart: %+v", row)
			}
			got := e.smtp.Messages()
			want := 1
			if tc.firstAccepted {
				want = 2 // at least once: SMTP cannot do exactly once
			}
			if len(got) != want {
				t.Fatalf("server accepted %d copies, want %d", len(got), want)
			}
			for _, g := range got {
				m, _ := g.Parse()
				if m.Header.Get("Message-ID") != e.mailer.MessageID(msg) {
					t.Fatalf("copies differ in Message-ID: %s", m.Header.Get("Message-ID"))
				}
			}
		})
	}
}

// Stopping the worker lets the message in hand finish and be recorded.
func TestGracefulStopFinishesMessage(t *testing.T) {
	e := newEnv(t)
	arrived, release := e.smtp.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.worker.Run(ctx); close(done) }()
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: "g1"})
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "bo@example.org", Body: "BODY", Ref: "g2"})
	e.worker.Wake()
	<-arrived
	cancel()
	release()
	<-done
	if row := e.get("g1"); row.SentAt.IsZero() {
		t.Fatalf("message in hand not finished: %+v", row)
	}
	// The second was never claimed, so no lease delays it.
	if row := e.get("g2"); row.Attempts != 0 {
		t.Fatalf("second message touched after stop: %+v", row)
	}
	e.runOnce(1)
}

// Wake sends a new message at once instead of at the next poll.
func TestWakeSendsAtOnce(t *testing.T) {
	e := newEnv(t)
	e.worker.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.worker.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i, ref := range []string{"k1", "k2"} {
		e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: ref})
		e.worker.Wake()
		e.smtp.WaitFor(i+1, 10*time.Second)
	}
}

func TestUnconfiguredKindRetried(t *testing.T) {
	e := newEnv(t)
	e.worker.Mail = nil
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: "u1"})
	e.enqueue(store.OutboxMessage{Kind: "pigeon", To: "ana@example.org", Body: "BODY", Ref: "u2"})
	e.runOnce(2)
	if row := e.get("u1"); !row.FailedAt.IsZero() || !strings.Contains(row.LastError, "no sender") {
		t.Fatalf("e-mail without a mailer: %+v", row)
	}
	if row := e.get("u2"); row.FailedAt.IsZero() {
		t.Fatalf("unknown kind not given up: %+v", row)
	}
}

// A message whose attempts all ended in crashes is given up without a
// further send once over the limit.
func TestCrashLoopGivenUp(t *testing.T) {
	e := newEnv(t)
	e.worker.MaxAttempts = 2
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: "p1"})
	for range 2 { // two claims that never report back
		if got, err := e.store.ClaimOutbox(context.Background(), e.clock.Now(), 1, time.Minute); err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		e.clock.Advance(time.Minute)
	}
	e.runOnce(1)
	if row := e.get("p1"); row.FailedAt.IsZero() || row.Attempts != 3 {
		t.Fatalf("%+v", row)
	}
	if e.smtp.Attempts() != 0 {
		t.Fatal("sent past the limit")
	}
}

func TestLogLinesAreJSONWithIDAndRef(t *testing.T) {
	e := newEnv(t)
	e.smtp.FailNext(1)
	e.enqueue(store.OutboxMessage{Kind: store.OutboxEmail, To: "ana@example.org", Body: "BODY", Ref: "l1"})
	e.runOnce(1)
	var line struct {
		ID  int64  `json:"id"`
		Ref string `json:"ref"`
		Err string `json:"err"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(e.logs.String())), &line); err != nil {
		t.Fatal(err)
	}
	if line.ID == 0 || line.Ref != "l1" || line.Err == "" {
		t.Fatalf("log line: %+v", line)
	}
}
