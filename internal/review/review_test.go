package review_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

var (
	dev      = review.Actor{ID: "dev@example.org", Role: auth.Analyst}
	steward  = review.Actor{ID: "steward@example.org", Role: auth.DataSteward}
	privacy  = review.Actor{ID: "privacy@example.org", Role: auth.PrivacyReviewer}
	legal    = review.Actor{ID: "legal@example.org", Role: auth.LegalReviewer}
	security = review.Actor{ID: "security@example.org", Role: auth.SecurityReviewer}
	owner    = review.Actor{ID: "po@example.org", Role: auth.ProductOwner}
)

var answers = map[string]string{"questions": "Does the new picker help?", "why": "Fewer failed sign-ins.",
	"alternatives": "User studies; too few people.", "current_instrumentation": "No.", "populations": "Everyone.",
	"analysis": "Weekly counts.", "sharing": "The team's dashboard."}

var checklist = map[string]string{"documentation": "yes, the registry", "user_control": "opt-out cookie, DNT, GPC",
	"monitoring": "expires 2027-12-31", "category": "3", "default": "default-on", "new_identifiers": "none",
	"notice": "yes", "third_party": "no"}

type fixture struct {
	st  store.Store
	reg *registry.Source
	svc *review.Service
	clk *clock.Fake
}

// backendsUnder runs f on SQLite and, when STEWARD_TEST_POSTGRES is set,
// on PostgreSQL.
func backendsUnder(t *testing.T, f func(t *testing.T, fx *fixture)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dsn := ""
			if name == "postgres" {
				if os.Getenv(pgtest.Env) == "" {
					t.Skip("set " + pgtest.Env + " to run on PostgreSQL")
				}
				dsn = pgtest.Schema(t)
			}
			ctx := context.Background()
			st, err := backends.Open(ctx, dsn, t.TempDir(), true)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			clk := clock.NewFake(t0)
			src := registry.NewSource(st, clk.Now, nil)
			if _, _, err := src.Publish(ctx, registry.DefaultYAML, "built-in", registry.Approval{By: "built-in example"}); err != nil {
				t.Fatal(err)
			}
			for _, a := range []review.Actor{dev, steward, privacy, legal, security, owner} {
				if err := st.CreateUser(ctx, store.User{ID: a.ID, Email: a.ID, Role: string(a.Role), PasswordHash: "x", CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
			}
			svc := &review.Service{Store: st, Registry: src, Clock: clk, PublicURL: "https://steward.example",
				Env: review.Environment{OptOut: []string{"Global Privacy Control"}, NoticeURL: "https://steward.example/privacy"}}
			f(t, &fixture{st: st, reg: src, svc: svc, clk: clk})
		})
	}
}

// withField is the built-in registry with one more interaction_data field.
func withField(line string) []byte {
	return bytes.Replace(registry.DefaultYAML, []byte("      sample_rate:   {type: number"), []byte(line+"\n      sample_rate:   {type: number"), 1)
}

const referrer = "      referrer:      {type: string, max_length: 200, category: 3, description: The page the dialog was opened from.}"

func mails(t *testing.T, st store.Store, id int64) map[string][]string {
	t.Helper()
	msgs, err := st.ListOutbox(context.Background(), fmt.Sprintf("proposal:%d", id), 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, m := range msgs {
		out[m.To] = append(out[m.To], m.Subject)
	}
	return out
}

func TestCategoryThreeNeedsThreeSignOffsAndPublishes(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		p, err := fx.svc.Propose(ctx, dev, review.Input{YAML: withField(referrer), Name: "next.yaml", Links: []string{"https://tracker.example/42"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != "draft" || p.MaxCategory != 3 || strings.Join(p.Required, ",") != "privacy_reviewer,legal_reviewer,security_reviewer" {
			t.Fatalf("proposed: %+v", p)
		}
		// Every question the registry cannot answer comes first.
		var inv *review.InvalidError
		if _, err := fx.svc.Submit(ctx, dev, p.ID, p.Revision); !errors.As(err, &inv) || !strings.Contains(err.Error(), "questions, why") {
			t.Fatalf("submit unanswered: %v", err)
		}
		if p, err = fx.svc.Revise(ctx, dev, p.ID, p.Revision, review.Input{Answers: answers}); err != nil || p.Revision != 2 {
			t.Fatalf("answer: %+v %v", p, err)
		}
		if _, err := fx.svc.Submit(ctx, dev, p.ID, 1); !errors.Is(err, review.ErrStale) {
			t.Fatalf("submit an old revision: %v", err)
		}
		if p, err = fx.svc.Submit(ctx, dev, p.ID, p.Revision); err != nil || p.State != "in_review" {
			t.Fatalf("submit: %+v %v", p, err)
		}
		m := mails(t, fx.st, p.ID)
		for _, who := range []string{privacy.ID, legal.ID, security.ID} {
			if len(m[who]) != 1 || !strings.HasPrefix(m[who][0], "Review needed") {
				t.Fatalf("reviewer %s told: %v", who, m)
			}
		}
		if len(m[steward.ID]) != 0 || len(m[dev.ID]) != 0 {
			t.Fatalf("told people it does not need: %v", m)
		}
		// Nothing is in force yet.
		if fx.reg.Current().Dataset("interaction_data").Field("referrer") != nil {
			t.Fatal("the field is in force before approval")
		}
		approve := review.SignOffInput{Revision: p.Revision, Decision: review.DecisionApprove, Checklist: checklist}
		var forb *review.ForbiddenError
		for _, c := range []struct {
			who  review.Actor
			in   review.SignOffInput
			want string
		}{
			{dev, approve, "cannot sign off their own"},
			{steward, approve, "role data_steward is not among them"},
			{legal, approve, "privacy/technical review signs first"},
		} {
			if _, err := fx.svc.SignOff(ctx, c.who, p.ID, c.in); !errors.As(err, &forb) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s: %v, want %q", c.who, err, c.want)
			}
		}
		if _, err := fx.svc.SignOff(ctx, privacy, p.ID, review.SignOffInput{Revision: p.Revision, Decision: review.DecisionApprove}); !errors.As(err, &inv) {
			t.Fatalf("approve without the checklist: %v", err)
		}
		if _, err := fx.svc.SignOff(ctx, privacy, p.ID, approve); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.SignOff(ctx, privacy, p.ID, approve); !errors.Is(err, review.ErrAnswered) {
			t.Fatalf("second answer: %v", err)
		}
		// Legal and security at the same moment: both count, once each.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, who := range []review.Actor{legal, security} {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = fx.svc.SignOff(ctx, who, p.ID, approve) }()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("concurrent sign-offs: %v", errs)
		}
		v, err := fx.svc.Get(ctx, p.ID)
		if err != nil || v.Proposal.State != "approved" || v.Proposal.Published != 2 || len(v.SignOffs) != 3 || !v.Complete() {
			t.Fatalf("after three sign-offs: %+v %v", v.Proposal, err)
		}
		if f := fx.reg.Current().Dataset("interaction_data").Field("referrer"); f == nil || fx.reg.Version() != 2 {
			t.Fatal("the approved field is not in force")
		}
		ver, err := fx.st.GetRegistryVersion(ctx, 2)
		if err != nil || ver.Proposal != p.ID || ver.ApprovedBy != "review" || !strings.Contains(ver.Note, "privacy@example.org") {
			t.Fatalf("version: %+v %v", ver, err)
		}
		if _, err := fx.svc.SignOff(ctx, steward, p.ID, approve); err == nil || !strings.Contains(err.Error(), "is approved") {
			t.Fatalf("sign-off on a closed proposal: %v", err)
		}
		// The document carries the measurement table and the matrix.
		md, err := fx.svc.Document(v).Markdown()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"| new field `interaction_data.referrer` | The page the dialog was opened from. | string | 3 (web_activity) | https://tracker.example/42 |",
			"Does the new picker help?", "| privacy/technical review | highest category is 3 | privacy@example.org |", "steward honours", "collected until 2027-12-31"} {
			if !strings.Contains(string(md), want) {
				t.Errorf("document lacks %q:\n%s", want, md)
			}
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		if _, err := fx.svc.Propose(ctx, dev, review.Input{YAML: registry.DefaultYAML}, false); !errors.Is(err, review.ErrNoChange) {
			t.Fatalf("no change: %v", err)
		}
		var probs *registry.ProblemsError
		bad := withField("      referrer:      {type: strin, category: 3}")
		if _, err := fx.svc.Propose(ctx, dev, review.Input{YAML: bad, Name: "bad.yaml"}, false); !errors.As(err, &probs) || probs.Problems[0].Line == 0 ||
			!strings.Contains(probs.Problems[0].String(), "bad.yaml:") {
			t.Fatalf("lint: %v", err)
		}
		var forb *review.ForbiddenError
		if _, err := fx.svc.Propose(ctx, review.Actor{ID: "s@example.org", Role: auth.Support}, review.Input{YAML: withField(referrer)}, false); !errors.As(err, &forb) {
			t.Fatalf("support proposes: %v", err)
		}
		if ps, _ := fx.st.ListProposals(ctx, store.ProposalQuery{}); len(ps) != 0 {
			t.Fatalf("bad input stored %d proposal(s)", len(ps))
		}
		p, err := fx.svc.Propose(ctx, dev, review.Input{YAML: withField(referrer), Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Decide(ctx, owner, p.ID, "approve", "fine"); err == nil || !strings.Contains(err.Error(), "only an escalated proposal") {
			t.Fatalf("decide before escalation: %v", err)
		}
		if _, err := fx.svc.Decide(ctx, legal, p.ID, "approve", "fine"); !errors.As(err, &forb) {
			t.Fatalf("decide by a reviewer: %v", err)
		}
		if _, err := fx.svc.SignOff(ctx, privacy, p.ID, review.SignOffInput{Revision: p.Revision, Decision: "maybe"}); err == nil {
			t.Fatal("unknown decision taken")
		}
		if h, _ := fx.st.ProposalHistory(ctx, p.ID); len(h) != 2 {
			t.Fatalf("bad actions wrote history: %+v", h)
		}
	})
}

// Request changes sends the proposal back; a revision that alters a
// change voids the sign-offs that saw it, and shows what is unseen.
func TestRequestChangesRestartsTheChangedParts(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		two := withField(referrer + "\n      dialog_theme:  {type: enum, values: [light, dark], category: 1, description: Colour theme.}")
		p, err := fx.svc.Propose(ctx, dev, review.Input{YAML: two, Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		approve := review.SignOffInput{Revision: p.Revision, Decision: review.DecisionApprove, Checklist: checklist}
		if _, err := fx.svc.SignOff(ctx, privacy, p.ID, approve); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.SignOff(ctx, security, p.ID, review.SignOffInput{Revision: p.Revision, Decision: review.DecisionRequestChanges}); err == nil {
			t.Fatal("request changes without mitigations")
		}
		p, err = fx.svc.SignOff(ctx, security, p.ID, review.SignOffInput{Revision: p.Revision, Decision: review.DecisionRequestChanges,
			Mitigations: []string{"keep only the host of the referrer"}})
		if err != nil || p.State != "draft" {
			t.Fatalf("request changes: %+v %v", p, err)
		}
		if m := mails(t, fx.st, p.ID); len(m[dev.ID]) < 2 || !strings.Contains(strings.Join(m[dev.ID], "|"), "Changes requested") {
			t.Fatalf("proposer told: %v", m)
		}
		// Shorter referrer: the privacy sign-off no longer counts.
		shorter := bytes.Replace(two, []byte("max_length: 200"), []byte("max_length: 100"), 1)
		if p, err = fx.svc.Revise(ctx, dev, p.ID, p.Revision, review.Input{YAML: shorter}); err != nil {
			t.Fatal(err)
		}
		if p, err = fx.svc.Submit(ctx, dev, p.ID, p.Revision); err != nil {
			t.Fatal(err)
		}
		v, err := fx.svc.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		row := v.Matrix[0]
		if row.Approval != nil || row.Latest == nil || strings.Join(row.Unseen, ",") != "interaction_data.referrer" {
			t.Fatalf("privacy row after the revision: %+v", row)
		}
	})
}

// A category 1–2 change that alters what the notice says needs legal.
func TestNoticeChangeNeedsLegal(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		longer := bytes.Replace(registry.DefaultYAML, []byte("retention: 120d"), []byte("retention: 365d"), 1)
		p, err := fx.svc.Propose(ctx, dev, review.Input{YAML: longer}, false)
		if err != nil || strings.Join(p.Required, ",") != "data_steward,legal_reviewer" {
			t.Fatalf("longer retention: %+v %v", p, err)
		}
		tighter := bytes.Replace(registry.DefaultYAML, []byte("max_length: 16"), []byte("max_length: 12"), 1)
		q, err := fx.svc.Propose(ctx, dev, review.Input{YAML: tighter}, false)
		if err != nil || strings.Join(q.Required, ",") != "data_steward" {
			t.Fatalf("a tighter constraint: %+v %v", q, err)
		}
	})
}

// Seed 000's escalation: positions in writing, everyone told, the
// product owner's decision with reasons closes it and publishes.
func TestEscalationToTheProductOwner(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		p, err := fx.svc.Propose(ctx, dev, review.Input{YAML: withField(referrer), Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Escalate(ctx, legal, p.ID, ""); err == nil {
			t.Fatal("escalation without a position")
		}
		if p, err = fx.svc.Escalate(ctx, legal, p.ID, "Keep only the referrer's host; the full URL is web activity."); err != nil || p.State != "escalated" {
			t.Fatalf("escalate: %+v %v", p, err)
		}
		if m := mails(t, fx.st, p.ID); len(m[owner.ID]) != 1 || len(m[dev.ID]) != 1 || len(m[security.ID]) < 2 {
			t.Fatalf("parties told: %v", m)
		}
		if _, err := fx.svc.Comment(ctx, dev, p.ID, review.NotePosition, "The path tells us which page; the host does not."); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Decide(ctx, owner, p.ID, "approve", ""); err == nil {
			t.Fatal("a decision without reasoning")
		}
		if p, err = fx.svc.Decide(ctx, owner, p.ID, "approve", "The path is needed; retention stays 120 days."); err != nil || p.State != "decided" || p.Published != 2 {
			t.Fatalf("decide: %+v %v", p, err)
		}
		notes, _ := fx.st.ListReviewNotes(ctx, p.ID)
		if len(notes) != 3 || notes[0].Kind != "position" || notes[1].Author != dev.ID || notes[2].Kind != "decision" {
			t.Fatalf("notes: %+v", notes)
		}
		if fx.reg.Current().Dataset("interaction_data").Field("referrer") == nil {
			t.Fatal("the decided proposal is not in force")
		}
	})
}

// Two proposals on one base: once the first is approved, the second
// cannot be published as it was reviewed (its file would undo the first);
// a revision that includes both goes through with the sign-offs it kept.
func TestRegistryMovedUnderAProposal(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		theme := "      dialog_theme:  {type: enum, values: [light, dark], category: 1, description: Colour theme.}"
		a, err := fx.svc.Propose(ctx, dev, review.Input{YAML: withField(theme), Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fx.svc.Propose(ctx, dev, review.Input{YAML: bytes.Replace(registry.DefaultYAML, []byte("max_length: 16"), []byte("max_length: 12"), 1), Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		ok := func(p store.Proposal) review.SignOffInput {
			return review.SignOffInput{Revision: p.Revision, Decision: review.DecisionApprove, Checklist: checklist}
		}
		if a, err = fx.svc.SignOff(ctx, steward, a.ID, ok(a)); err != nil {
			t.Fatal(err)
		}
		// A new field changes what the notice lists: legal signs too.
		if a, err = fx.svc.SignOff(ctx, legal, a.ID, ok(a)); err != nil || a.State != "approved" {
			t.Fatalf("first: %+v %v", a, err)
		}
		if b, err = fx.svc.SignOff(ctx, steward, b.ID, ok(b)); err != nil || b.State != "in_review" || b.Published != 0 {
			t.Fatalf("second after the first: %+v %v", b, err)
		}
		if v, _ := fx.svc.Get(ctx, b.ID); !v.Moved {
			t.Fatal("the view does not say the registry moved")
		}
		both := bytes.Replace(withField(theme), []byte("max_length: 16"), []byte("max_length: 12"), 1)
		if b, err = fx.svc.Revise(ctx, dev, b.ID, b.Revision, review.Input{YAML: both}); err != nil || b.State != "approved" || b.Published != 3 {
			t.Fatalf("rebased: %+v %v", b, err)
		}
		cur := fx.reg.Current().Dataset("interaction_data")
		if cur.Field("dialog_theme") == nil || cur.Field("language").MaxLength != 12 {
			t.Fatal("the registry in force lacks one of the two approvals")
		}
	})
}

func TestPendingAndExpiry(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		if _, err := fx.svc.Propose(ctx, dev, review.Input{YAML: withField(referrer)}, false); err != nil {
			t.Fatal(err)
		}
		if err := fx.svc.RefreshPending(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fx.svc.UnderReview("interaction_data", "referrer"); !strings.Contains(got, "new field in proposal 1, draft") {
			t.Fatalf("under review: %q", got)
		}
		if got := fx.svc.UnderReview("interaction_data", "language"); got != "" {
			t.Fatalf("an approved field under review: %q", got)
		}
		// The built-in dataset expires 2027-12-31: 14 days before, its owner is told once.
		fx.clk.Set(time.Date(2027, 12, 20, 0, 0, 0, 0, time.UTC))
		for range 2 {
			if err := fx.svc.NotifyExpiring(ctx); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := fx.st.ListOutbox(ctx, "expiry:", 100)
		if err != nil || len(msgs) != 1 || msgs[0].To != "kpi-team@example.org" || !strings.Contains(msgs[0].Body, "/admin/reviews/new?renew=") {
			t.Fatalf("expiry notices: %+v %v", msgs, err)
		}
	})
}

// A start-up file's proposal belongs to the operator: any admin answers
// and submits it, and no admin can sign it.
func TestOperatorProposalIsAnAdminsToCarry(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		op := review.Actor{ID: review.Operator, Role: auth.Admin}
		admin := review.Actor{ID: "admin@example.org", Role: auth.Admin}
		p, err := fx.svc.Propose(ctx, op, review.Input{YAML: withField(referrer)}, false)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = fx.svc.Revise(ctx, admin, p.ID, p.Revision, review.Input{Answers: answers}); err != nil {
			t.Fatal(err)
		}
		if p, err = fx.svc.Submit(ctx, admin, p.ID, p.Revision); err != nil || p.State != "in_review" {
			t.Fatalf("submit by an admin: %+v %v", p, err)
		}
		var forb *review.ForbiddenError
		if _, err := fx.svc.Submit(ctx, dev, p.ID, p.Revision); !errors.As(err, &forb) {
			t.Fatalf("someone else carries it: %v", err)
		}
	})
}

// Two nodes: one approves while the other has not yet seen that version.
// The second approval notices inside its transaction, reads the new
// version and keeps its proposal in review instead of undoing the first.
func TestApprovalOnANodeThatHasNotPolled(t *testing.T) {
	backendsUnder(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		other := registry.NewSource(fx.st, fx.clk.Now, nil)
		if _, err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		b := &review.Service{Store: fx.st, Registry: other, Clock: fx.clk}
		tighter := func(y []byte) []byte { return bytes.Replace(y, []byte("max_length: 16"), []byte("max_length: 12"), 1) }
		theme := "      dialog_theme:  {type: enum, values: [light, dark], category: 1, description: Colour theme.}"
		pa, err := fx.svc.Propose(ctx, dev, review.Input{YAML: withField(theme), Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.Propose(ctx, dev, review.Input{YAML: tighter(registry.DefaultYAML), Answers: answers}, true)
		if err != nil {
			t.Fatal(err)
		}
		ok := review.SignOffInput{Revision: 1, Decision: review.DecisionApprove, Checklist: checklist}
		for _, who := range []review.Actor{steward, legal} {
			if pa, err = fx.svc.SignOff(ctx, who, pa.ID, review.SignOffInput{Revision: pa.Revision, Decision: review.DecisionApprove, Checklist: checklist}); err != nil {
				t.Fatal(err)
			}
		}
		if pa.State != "approved" || other.Version() != 1 {
			t.Fatalf("first approval: %s, other node at %d", pa.State, other.Version())
		}
		ok.Revision = pb.Revision
		if pb, err = b.SignOff(ctx, steward, pb.ID, ok); err != nil || pb.State != "in_review" || pb.Published != 0 {
			t.Fatalf("approval on the node behind: %+v %v", pb, err)
		}
		if other.Version() != 2 {
			t.Fatalf("the node behind did not read the newer version: %d", other.Version())
		}
		if head, _ := fx.st.RegistryHead(ctx); head != 2 {
			t.Fatalf("head %d: the first approval was undone or doubled", head)
		}
	})
}
