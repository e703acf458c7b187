package incident_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// request stores a data subject request for e-mail address email under
// subject key key, confirmed or not.
func request(t *testing.T, fx *fixture, n int, email, key string, confirmed bool) {
	t.Helper()
	r := store.Request{ID: fmt.Sprintf("r-test%04d", n), StatusTokenHash: []byte{1}, Channel: "web", Type: "access", Status: "done",
		Email: email, SubjectKey: key, Law: "gdpr", DueAt: t0.AddDate(0, 1, 0), CreatedAt: t0.Add(-time.Hour),
		UpdatedAt: t0.Add(-time.Hour), StatusAt: t0.Add(-time.Hour), Version: 1}
	if confirmed {
		r.EmailConfirmedAt = t0.Add(-time.Hour)
	}
	if err := fx.st.InTx(context.Background(), func(tx store.Tx) error { return tx.CreateRequest(context.Background(), r) }); err != nil {
		t.Fatal(err)
	}
}

func TestCommunicateTellsEachConfirmedContactOnce(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		keyer, err := minimise.NewKeyer([]byte("a test hashing key of 32 bytes!!"))
		if err != nil {
			t.Fatal(err)
		}
		fx.svc.Keyer = keyer
		// alice is reached under her request's own key (a read of
		// requests), bob under the key his address hashes to as events
		// are stored; carol never confirmed her address; dave was not
		// affected; one affected person made no request at all.
		bobEvents := keyer.Hash("subject", "bob@example.org")
		carolEvents := keyer.Hash("subject", "carol@example.org")
		request(t, fx, 1, "alice@example.org", "dsr-alice", true)
		request(t, fx, 2, "bob@example.org", "dsr-bob", true)
		request(t, fx, 3, "carol@example.org", "dsr-carol", false)
		request(t, fx, 4, "dave@example.org", "dsr-dave", true)

		inc := openLaptop(t, fx, "Laptop lost")
		if _, err := fx.svc.Act(ctx, inc.ID, imActor, incident.ActInput{Action: incident.Assess}); err != nil {
			t.Fatal(err)
		}
		assess(t, fx, inc.ID, blast("dsr-alice", bobEvents, carolEvents, "k-nobody"), nil)

		// Not before a high risk was decided.
		_, err = fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
		if !errors.Is(err, incident.ErrNotNow) || !strings.Contains(err.Error(), "Art. 34(1)") {
			t.Fatalf("before the decision: %v", err)
		}
		if _, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, auditor, incident.CommunicateInput{}); !errors.Is(err, incident.ErrForbidden) {
			t.Fatalf("auditor: %v", err)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, imActor, incident.ActInput{Action: incident.HighRisk, Note: "sign-in timings of named people"}); err != nil {
			t.Fatal(err)
		}
		// Nor before the consequences and measures are written (Art. 34(2)).
		_, err = fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
		if !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), "likely_consequences") || !strings.Contains(err.Error(), "measures") {
			t.Fatalf("without the text: %v", err)
		}
		if got := mails(t, fx.st, incident.ArtRef(inc.ID)); len(got) != 0 {
			t.Fatalf("mail after refusals: %v", got)
		}
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Consequences: ptr("Someone could see when you signed in."),
			Measures: ptr("We wiped the laptop remotely and changed the export's key.")}); err != nil {
			t.Fatal(err)
		}

		fx.clk.Advance(time.Hour)
		res, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != 2 || res.Already != 0 || res.NoContact != 2 || res.Subjects != 4 {
			t.Fatalf("first run: %+v", res)
		}
		got := mails(t, fx.st, incident.ArtRef(inc.ID))
		if len(got) != 2 || got["alice@example.org"] != 1 || got["bob@example.org"] != 1 {
			t.Fatalf("mail: %v", got)
		}
		msgs, _ := fx.st.ListOutbox(ctx, incident.ArtRef(inc.ID), 10)
		for _, want := range []string{"## What happened", "Someone could see when you signed in.", "We wiped the laptop remotely",
			"Our data protection officer: dpo@example.org", "interaction data (how the product was used)", "It began on 22 November 2026."} {
			if !strings.Contains(msgs[0].Body, want) {
				t.Errorf("mail body lacks %q:\n%s", want, msgs[0].Body)
			}
		}
		if !strings.Contains(msgs[0].Subject, "Example Ltd") {
			t.Errorf("subject: %q", msgs[0].Subject)
		}
		inc, _ = fx.st.GetIncident(ctx, inc.ID)
		if inc.State != string(incident.NotifiedSubjects) || !inc.SubjectsNotifiedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("incident: %s %s", inc.State, inc.SubjectsNotifiedAt)
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		last := hist[len(hist)-1]
		if last.Action != string(incident.NotifySubjects) || last.Note != "told 2 people by e-mail (Art. 34); 2 affected people have no contact known: public communication needed (Art. 34(3)(c))" {
			t.Fatalf("history: %+v", last)
		}

		// Again: nobody is written to twice.
		res, err = fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{Version: inc.Version})
		if err != nil || res.Sent != 0 || res.Already != 2 || res.NoContact != 2 {
			t.Fatalf("second run: %+v %v", res, err)
		}
		if got := mails(t, fx.st, incident.ArtRef(inc.ID)); len(got) != 2 || got["alice@example.org"] != 1 {
			t.Fatalf("mail after a second run: %v", got)
		}
		// The access log records both runs and holds no address.
		if n := logged(t, fx, "told "); n != 2 {
			t.Fatalf("access-log entries of the communication: %d", n)
		}
		if n := logged(t, fx, "alice@") + logged(t, fx, "bob@") + logged(t, fx, "dsr-alice"); n != 0 {
			t.Fatalf("an address or key in the access log: %d", n)
		}
	})
}

func TestCommunicateFollowsTheSeverityDecision(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		inc := openLaptop(t, fx, "Laptop lost")
		assess(t, fx, inc.ID, blast("k1"), severity(false))
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Consequences: ptr("sign-in times *within* <1 h>"), Measures: ptr("m")}); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{}); !errors.Is(err, incident.ErrNotNow) {
			t.Fatalf("Art. 34 decided not to apply: %v", err)
		}
		assess(t, fx, inc.ID, nil, severity(true))
		// Nobody has a contact: nothing is sent, the state stays, and the
		// history says a public communication is needed.
		res, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
		if err != nil || res.Sent != 0 || res.NoContact != 1 {
			t.Fatalf("decided by severity: %+v %v", res, err)
		}
		if res.Incident.State != string(incident.Detected) || !res.Incident.SubjectsNotifiedAt.IsZero() {
			t.Fatalf("incident: %+v", res.Incident)
		}
		c, _ := fx.svc.Communication(ctx, inc.ID)
		if len(c.Unknown) != 0 || !strings.Contains(c.Markdown(), "# Important: a personal data breach that involves your data (Example Ltd)") {
			t.Fatalf("communication: %+v\n%s", c, c.Markdown())
		}
		// The draft is Markdown with what people wrote escaped; the mail
		// is plain text with it as written.
		if !strings.Contains(c.Markdown(), `sign-in times \*within\* &lt;1 h&gt;`) || !strings.Contains(c.Text(), "sign-in times *within* <1 h>") {
			t.Fatalf("escaping:\n%s\n%s", c.Markdown(), c.Text())
		}
	})
}

func TestCommunicateWithPartOfTheKeysAndAfterTheEnd(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		request(t, fx, 1, "alice@example.org", "dsr-alice", true)
		inc := openLaptop(t, fx, "Laptop lost")
		b := blast("dsr-alice", "k2")
		b.Subjects, b.KeysTruncated = 5, true
		assess(t, fx, inc.ID, b, nil)
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Consequences: ptr("c"), Measures: ptr("m")}); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, imActor, incident.ActInput{Action: incident.HighRisk, Note: "named people"}); err != nil {
			t.Fatal(err)
		}
		// A later severity decision that Art. 34 does not apply wins.
		fx.clk.Advance(time.Minute)
		sev := severity(false)
		sev.DecidedAt = fx.clk.Now()
		assess(t, fx, inc.ID, nil, sev)
		if _, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{}); !errors.Is(err, incident.ErrNotNow) {
			t.Fatalf("after a later decision against: %v", err)
		}
		sev.Decided.Art34 = true
		assess(t, fx, inc.ID, nil, sev)
		res, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
		if err != nil || res.Sent != 1 || res.NoContact != 4 || !res.KeysTruncated {
			t.Fatalf("truncated keys: %+v %v", res, err)
		}
		hist, _ := fx.st.IncidentHistory(ctx, inc.ID)
		if note := hist[len(hist)-1].Note; !strings.Contains(note, "4 affected people have no contact known") || !strings.Contains(note, "recompute it") {
			t.Fatalf("note: %q", note)
		}
		rep, _ := fx.svc.AuthorityReport(ctx, inc.ID)
		if !hasPrefix(rep.Unknown, "subjects: the count is exact, but the blast radius keeps only the first 2") {
			t.Fatalf("unknown: %q", rep.Unknown)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, imActor, incident.ActInput{Action: incident.Assess}); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Act(ctx, inc.ID, imActor, incident.ActInput{Action: incident.Close, Note: "done"}); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{}); !errors.Is(err, incident.ErrNotNow) || !strings.Contains(err.Error(), "closed") {
			t.Fatalf("after the end: %v", err)
		}
	})
}

func TestCommunicateTwiceAtOnceSendsEachMailOnce(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		for i, who := range []string{"alice", "bob", "carol"} {
			request(t, fx, i, who+"@example.org", "dsr-"+who, true)
		}
		inc := openLaptop(t, fx, "Laptop lost")
		assess(t, fx, inc.ID, blast("dsr-alice", "dsr-bob", "dsr-carol"), severity(true))
		if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Consequences: ptr("c"), Measures: ptr("m")}); err != nil {
			t.Fatal(err)
		}
		type out struct {
			res incident.Communicated
			err error
		}
		done := make(chan out, 2)
		for range 2 {
			go func() {
				res, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
				done <- out{res, err}
			}()
		}
		sent := 0
		for range 2 {
			o := <-done
			if o.err != nil {
				t.Fatal(o.err)
			}
			sent += o.res.Sent
		}
		if got := mails(t, fx.st, incident.ArtRef(inc.ID)); sent != 3 || len(got) != 3 || got["alice@example.org"] != 1 || got["carol@example.org"] != 1 {
			t.Fatalf("sent %d, mail %v", sent, got)
		}
	})
}
