package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
)

// webActivityField is a category-3 field added to the built-in
// interaction_data dataset: three reviews are needed before it is
// collected.
const webActivityField = "      referring_site: {type: string, max_length: 253, category: web_activity, description: Site the visitor came from (domain only).}\n"

// withWebActivity is the built-in registry with webActivityField.
func withWebActivity(t testing.TB) string {
	t.Helper()
	src := string(registry.DefaultYAML)
	anchor := "      client_id:"
	i := strings.Index(src, anchor)
	if i < 0 {
		t.Fatal("the built-in registry has no interaction_data.client_id line")
	}
	return src[:i] + webActivityField + src[i:]
}

// reviewAnswers answers every question the proposer must answer.
var reviewAnswers = map[string]string{
	"questions":               "Where do people who fail to sign in come from?",
	"why":                     "To fix the dialog for the sites that send the most failures.",
	"alternatives":            "Asking partner sites; too slow and incomplete.",
	"current_instrumentation": "No: the dialog does not record where it was opened.",
	"populations":             "Every visitor who opens the sign-in dialog.",
	"analysis":                "Failure rate per referring site, weekly.",
	"sharing":                 "The sign-in team's weekly report.",
}

// postMultipart posts fields (and a file under "file" when name is set)
// as a browser posts a form with enctype multipart/form-data.
func (p *page) postMultipart(path string, fields url.Values, fileName, file string) (int, string, http.Header) {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("file", fileName)
		_, _ = io.WriteString(fw, file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", p.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

// actionForm is a page's form for action, with its hidden fields, as a person
// would send it after filling in set.
func actionForm(t *testing.T, body, action string, set map[string]string) url.Values {
	t.Helper()
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("the page has no form for %s", action)
	}
	end := strings.Index(body[i:], "</form>")
	v := hidden(body[i : i+end])
	for k, val := range set {
		v.Set(k, val)
	}
	return v
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

// plain is a page's text without its markup, for matching sentences.
func plain(body string) string {
	return htmlUnescape(strings.Join(strings.Fields(tagRE.ReplaceAllString(body, " ")), " "))
}

func wants(t *testing.T, what, body string, want ...string) {
	t.Helper()
	text := plain(body)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("%s: the page does not say %q:\n%s", what, w, text)
		}
	}
}

// TestReviewPages walks a category-3 proposal through the portal's pages
// over HTTP, with every refusal a person can run into on the way.
func TestReviewPages(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	analyst := signIn(t, n, auth.Analyst)
	privacy := signIn(t, n, auth.PrivacyReviewer)
	legal := signIn(t, n, auth.LegalReviewer)
	security := signIn(t, n, auth.SecurityReviewer)
	auditor := signIn(t, n, auth.Auditor)
	csrf := analyst.csrf()

	// A file that does not lint: the lint's messages with line numbers,
	// the form kept, nothing stored.
	bad := strings.Replace(withWebActivity(t), "category: web_activity", "category: 7", 1)
	st, body, _ := analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}, "title": {"Referring site"}}, "proposal.yaml", bad)
	line := strings.Count(bad[:strings.Index(bad, "referring_site")], "\n") + 1
	wants(t, "lint", body, "does not lint", fmt.Sprintf("line %d: datasets.interaction_data.fields.referring_site.category: must be 1-4", line))
	if st != 400 || !strings.Contains(body, `value="Referring site"`) || !strings.Contains(body, "category: 7") {
		t.Fatalf("lint: %d, form not kept", st)
	}
	inShell(t, "lint refusal", body)
	// The built-in registry as it is changes nothing.
	st, body, _ = analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}, "yaml": {string(registry.DefaultYAML)}}, "", "")
	wants(t, "no change", body, "The file changes nothing in the approved registry")
	if st != 400 {
		t.Fatalf("no change: %d", st)
	}
	// Not UTF-8.
	st, body, _ = analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}}, "bad.yaml", "datasets: \xff\n")
	if st != 400 || !strings.Contains(body, "not UTF-8 text") {
		t.Fatalf("not utf-8: %d %s", st, plain(body))
	}
	if ps, _ := n.srv.Store.ListProposals(ctx, store.ProposalQuery{Limit: 10}); len(ps) != 0 {
		t.Fatalf("a refused upload was stored: %v", ps)
	}

	// The upload: a draft, with its changes and what is still to answer.
	st, _, h := analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}, "title": {"Referring site"},
		"links": {"https://tickets.example.org/SIGNIN-42\n"}}, "proposal.yaml", withWebActivity(t))
	if st != 303 || !strings.HasSuffix(h.Get("Location"), "?notice=proposed") {
		t.Fatalf("propose: %d %v", st, h)
	}
	loc := h.Get("Location")
	path := strings.TrimSuffix(loc, "?notice=proposed")
	st, body, _ = analyst.get(loc)
	wants(t, "draft", body, "The proposal is stored as a draft", "Proposal 1: Referring site", "new field", "interaction_data.referring_site",
		"3 (web_activity)", "privacy/technical review: highest category is 3", "Answer these questions first", "Not answered yet.")
	if st != 200 || !strings.Contains(body, `action="`+path+`/submit"`) || !strings.Contains(body, `action="`+path+`/answers"`) ||
		strings.Contains(body, `action="`+path+`/signoff"`) {
		t.Fatalf("draft page for its proposer: %d", st)
	}

	// Submitting unanswered is refused with what is missing.
	st, body, _ = analyst.postMultipart(path+"/submit", actionForm(t, body, path+"/submit", nil), "", "")
	wants(t, "submit unanswered", body, "Answer the review request's questions before submitting: questions, why")
	if st != 400 {
		t.Fatalf("submit unanswered: %d", st)
	}
	_, body, _ = analyst.get(path)
	answers := map[string]string{}
	for k, v := range reviewAnswers {
		answers["answer."+k] = v
	}
	if st, _, h = analyst.postMultipart(path+"/answers", actionForm(t, body, path+"/answers", answers), "", ""); st != 303 {
		t.Fatalf("answers: %d", st)
	}
	_, body, _ = analyst.get(h.Get("Location"))
	wants(t, "answered", body, "Your answers were saved", "Where do people who fail to sign in come from?", "revised answers (revision 2")
	if st, _, _ = analyst.postMultipart(path+"/submit", actionForm(t, body, path+"/submit", nil), "", ""); st != 303 {
		t.Fatalf("submit: %d", st)
	}

	// The reviewers' lists: waiting on each of the three, not on the
	// proposer or the auditor.
	for who, tab := range map[string]*page{"privacy": privacy, "legal": legal, "security": security} {
		_, body, _ = tab.get("/admin/reviews?waiting=1")
		if !strings.Contains(body, `href="`+path+`"`) || !strings.Contains(body, "waiting on you") {
			t.Fatalf("%s's waiting list lacks the proposal:\n%s", who, plain(body))
		}
	}
	for who, tab := range map[string]*page{"proposer": analyst, "auditor": auditor} {
		_, body, _ = tab.get("/admin/reviews?waiting=1")
		if strings.Contains(body, `href="`+path+`"`) {
			t.Fatalf("the proposal waits on the %s", who)
		}
	}
	st, body, _ = auditor.get("/admin/reviews?state=in_review&category=3")
	if st != 200 || !strings.Contains(body, `href="`+path+`"`) {
		t.Fatalf("auditor's list: %d", st)
	}
	inShell(t, "review list", body)
	if _, body, _ = auditor.get("/admin/reviews?state=approved"); strings.Contains(body, `href="`+path+`"`) {
		t.Fatal("the state filter lets an in-review proposal through")
	}
	if st, body, _ = auditor.get("/admin/reviews?state=nonsense&category=9"); st != 400 || !strings.Contains(plain(body), "unknown state; the category is 1 to 4") {
		t.Fatalf("bad filter: %d %s", st, plain(body))
	}
	// An auditor reads everything and is offered no action.
	st, body, _ = auditor.get(path)
	if st != 200 || strings.Contains(body, `action="`+path+`/`) {
		t.Fatalf("auditor's proposal page: %d offers an action", st)
	}

	// The proposer cannot sign their own proposal, even by posting the form.
	_, body, _ = privacy.get(path)
	signoff := actionForm(t, body, path+"/signoff", checklist("approve"))
	signoff.Set(auth.CSRFField, csrf)
	st, body, _ = analyst.postMultipart(path+"/signoff", signoff, "", "")
	if st != 403 || !strings.Contains(plain(body), "A proposer cannot sign off their own proposal.") {
		t.Fatalf("proposer signs: %d %s", st, plain(body))
	}
	// Legal/trust before privacy/technical review: only request changes or
	// reject; approving is refused.
	_, body, _ = legal.get(path)
	if !strings.Contains(body, `value="approve" disabled`) || !strings.Contains(plain(body), "privacy/technical review signs first") {
		t.Fatalf("legal's form offers approval before privacy review")
	}
	st, body, _ = legal.postMultipart(path+"/signoff", actionForm(t, body, path+"/signoff", checklist("approve")), "", "")
	if st != 403 || !strings.Contains(plain(body), "Privacy/technical review signs first") {
		t.Fatalf("legal first: %d %s", st, plain(body))
	}
	// Approving without the checklist: 400, what was typed kept.
	_, body, _ = privacy.get(path)
	st, body, _ = privacy.postMultipart(path+"/signoff", actionForm(t, body, path+"/signoff", map[string]string{"decision": "approve", "note": "Looks fine", "check.category": "3"}), "", "")
	wants(t, "approve without checklist", body, "Answer the reviewer's checklist before approving: documentation, user_control")
	if st != 400 || !strings.Contains(body, ">Looks fine</textarea>") || !strings.Contains(body, `value="approve" checked`) {
		t.Fatalf("approve without checklist: %d, form not kept", st)
	}
	// A stale revision: 409 with a way to reload; nothing recorded.
	stale := actionForm(t, body, path+"/signoff", checklist("approve"))
	stale.Set("revision", "1")
	st, body, _ = privacy.postMultipart(path+"/signoff", stale, "", "")
	if st != 409 || !strings.Contains(plain(body), "you acted on revision 1, it is at revision 2") || !strings.Contains(body, `<a class="button" href="`+path+`">Reload the proposal</a>`) {
		t.Fatalf("stale: %d %s", st, plain(body))
	}
	if sos, _ := n.srv.Store.ListSignOffs(ctx, 1); len(sos) != 0 {
		t.Fatalf("a refused sign-off was stored: %v", sos)
	}

	// The three sign-offs, in order; the last publishes.
	for i, tab := range []*page{privacy, legal, security} {
		_, body, _ = tab.get(path)
		st, _, h = tab.postMultipart(path+"/signoff", actionForm(t, body, path+"/signoff", checklist("approve")), "", "")
		if st != 303 {
			t.Fatalf("sign-off %d: %d", i, st)
		}
		// Twice on one revision: 409.
		if i == 0 {
			if st, body, _ = tab.postMultipart(path+"/signoff", actionForm(t, body, path+"/signoff", checklist("approve")), "", ""); st != 409 ||
				!strings.Contains(plain(body), "You already answered this revision") {
				t.Fatalf("second answer: %d %s", st, plain(body))
			}
		}
	}
	if !strings.HasSuffix(h.Get("Location"), "notice=approved") {
		t.Fatalf("the last sign-off: %v", h)
	}
	_, body, _ = security.get(h.Get("Location"))
	wants(t, "approved", body, "Every required sign-off is in", "approved since", "published as registry version 2",
		"privacy_reviewer@staff.example.org, privacy/technical review: approve", "Which category does the collection fall under? 3")
	if strings.Contains(body, `action="`+path+`/`) {
		t.Fatal("an approved proposal still offers actions")
	}
	if n.srv.Registry.Current().Dataset("interaction_data").Field("referring_site") == nil {
		t.Fatal("the approved field is not in the registry in force")
	}
	// A sign-off on the closed proposal: 409.
	closed := url.Values{auth.CSRFField: {security.csrf()}, "revision": {"2"}}
	for k, v := range checklist("approve") {
		closed.Set(k, v)
	}
	if st, body, _ = security.postMultipart(path+"/signoff", closed, "", ""); st != 409 || !strings.Contains(plain(body), "Proposal 1 is approved: sign-offs are taken only while it is in_review") {
		t.Fatalf("sign-off after approval: %d %s", st, plain(body))
	}

	// The document as Markdown.
	st, md, h := auditor.get(path + "/request.md")
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/markdown") || !strings.Contains(h.Get("Content-Disposition"), "proposal-1-request.md") ||
		!strings.HasPrefix(md, "# Request for data collection review: proposal 1") || !strings.Contains(md, "Where do people who fail to sign in come from?") {
		t.Fatalf("request.md: %d %v\n%s", st, h, md)
	}
	// Unknown proposals and actions: 404 pages.
	for _, p := range []string{"/admin/reviews/999", "/admin/reviews/x", "/admin/reviews/999/request.md"} {
		if st, body, _ := auditor.get(p); st != 404 || !strings.Contains(body, "There is no proposal with that number.") {
			t.Fatalf("%s: %d", p, st)
		}
	}
	if st, _, _ := analyst.postForm(path+"/bogus", url.Values{auth.CSRFField: {csrf}, "revision": {"2"}}); st != 404 {
		t.Fatalf("unknown action: %d", st)
	}
}

// checklist is a reviewer's form filled in with decision.
func checklist(decision string) map[string]string {
	m := map[string]string{"decision": decision}
	for _, c := range review.Checklist {
		m["check."+c.Key] = "yes"
	}
	m["check.category"] = "3"
	return m
}

// TestReviewEscalationPages: a dispute escalated from the proposal page,
// positions written by the parties, and a product owner's decision; who
// is not a party sees no forms and is refused.
func TestReviewEscalationPages(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	analyst := signIn(t, n, auth.Analyst)
	privacy := signIn(t, n, auth.PrivacyReviewer)
	owner := signIn(t, n, auth.ProductOwner)
	admin := signIn(t, n, auth.Admin)
	p, err := n.srv.Reviews.Propose(ctx, review.Actor{ID: "analyst@staff.example.org", Role: auth.Analyst},
		review.Input{YAML: []byte(withWebActivity(t)), Title: "Referring site", Answers: reviewAnswers}, true)
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/reviews/1"
	// A product owner is no party to a dispute that is not there yet.
	_, body, _ := owner.get(path)
	if strings.Contains(body, `action="`+path+`/`) {
		t.Fatal("the product owner is offered an action on a proposal in review")
	}
	_, body, _ = privacy.get(path)
	st, body, _ := privacy.postMultipart(path+"/escalate", actionForm(t, body, path+"/escalate", map[string]string{"position": ""}), "", "")
	if st != 400 || !strings.Contains(plain(body), "Escalate: write down the approach you recommend") {
		t.Fatalf("escalate without position: %d %s", st, plain(body))
	}
	_, body, _ = privacy.get(path)
	if st, _, _ = privacy.postMultipart(path+"/escalate", actionForm(t, body, path+"/escalate", map[string]string{"position": "Collect the domain only for failed sign-ins."}), "", ""); st != 303 {
		t.Fatalf("escalate: %d", st)
	}
	_, body, _ = analyst.get(path)
	wants(t, "escalated", body, "position by privacy_reviewer@staff.example.org", "Collect the domain only for failed sign-ins.")
	if st, _, _ = analyst.postMultipart(path+"/comment", actionForm(t, body, path+"/comment", map[string]string{"kind": "position", "text": "Every sign-in, or the rate means nothing."}), "", ""); st != 303 {
		t.Fatalf("comment: %d", st)
	}
	// Only a product owner decides: the form is theirs, and a post by
	// anyone else is refused.
	_, body, _ = admin.get(path)
	if strings.Contains(body, `action="`+path+`/decide"`) || strings.Contains(body, `action="`+path+`/comment"`) || !strings.Contains(body, `action="`+path+`/withdraw"`) {
		t.Fatal("an admin, who is no party, is offered the dispute's forms, or not the withdrawal")
	}
	_, body, _ = analyst.get(path)
	decide := actionForm(t, body, path+"/comment", map[string]string{"outcome": "approve", "reasoning": "mine"})
	if st, body, _ = analyst.postMultipart(path+"/decide", decide, "", ""); st != 403 || !strings.Contains(plain(body), "Only a product owner decides an escalated proposal") {
		t.Fatalf("proposer decides: %d %s", st, plain(body))
	}
	_, body, _ = owner.get(path)
	st, _, h := owner.postMultipart(path+"/decide", actionForm(t, body, path+"/decide", map[string]string{"outcome": "approve", "reasoning": "Failed sign-ins only, as privacy recommends, is enough for the question."}), "", "")
	if st != 303 || !strings.HasSuffix(h.Get("Location"), "notice=decide") {
		t.Fatalf("decide: %d", st)
	}
	_, body, _ = owner.get(h.Get("Location"))
	wants(t, "decided", body, "The decision is recorded", "decided since", "decision by product_owner@staff.example.org",
		"approve: Failed sign-ins only")
	if got, _ := n.srv.Store.GetProposal(ctx, p.ID); got.Published == 0 {
		t.Fatal("the product owner's approval did not publish")
	}
}

// TestReviewListAndRenewal: what expires soon is listed with a link that
// fills in a renewal, and the list pages through older proposals.
func TestReviewListAndRenewal(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	analyst := signIn(t, n, auth.Analyst)
	auditor := signIn(t, n, auth.Auditor)
	n.clock.Set(time.Date(2027, 12, 24, 9, 0, 0, 0, time.UTC))
	// Sessions last 8 hours: sign in again at the new time.
	analyst, auditor = loginAs(t, n, "analyst@staff.example.org"), loginAs(t, n, "auditor@staff.example.org")
	_, body, _ := analyst.get("/admin/reviews")
	wants(t, "expiring", body, "Expiring soon", "interaction_data", "kpi-team@example.org", "31 Dec 2027")
	if !strings.Contains(body, `href="/admin/reviews/new?renew=interaction_data"`) {
		t.Fatal("no renewal link")
	}
	if _, body, _ = auditor.get("/admin/reviews"); strings.Contains(body, "renew=") || strings.Contains(body, `href="/admin/reviews/new"`) {
		t.Fatal("an auditor, who cannot propose, is offered a renewal")
	}
	st, body, _ := analyst.get("/admin/reviews/new?renew=interaction_data")
	wants(t, "renewal form", body, "Renewal of interaction_data", "change the expires: date of interaction_data")
	if st != 200 || !strings.Contains(body, "expires: 2027-12-31") || !strings.Contains(body, `value="Renewal of interaction_data"`) {
		t.Fatalf("renewal form: %d", st)
	}
	inShell(t, "renewal form", body)
	if st, body, _ = analyst.get("/admin/reviews/new?renew=nothing.here"); st != 400 || !strings.Contains(plain(body), `There is no dataset or field "nothing.here"`) {
		t.Fatalf("renewal of nothing: %d", st)
	}
	// Sent unchanged, the renewal form comes back with its note.
	_, body, _ = analyst.get("/admin/reviews/new?renew=interaction_data")
	st, body, _ = analyst.postMultipart("/admin/reviews", actionForm(t, body, "/admin/reviews", map[string]string{"yaml": string(registry.DefaultYAML)}), "", "")
	wants(t, "unchanged renewal", body, "The file changes nothing in the approved registry", "which expires on 31 Dec 2027")
	if st != 400 {
		t.Fatalf("unchanged renewal: %d", st)
	}
	renewed := strings.Replace(string(registry.DefaultYAML), "expires: 2027-12-31", "expires: 2028-12-31", 1)
	st, _, h := analyst.postMultipart("/admin/reviews", actionForm(t, body, "/admin/reviews", map[string]string{"yaml": renewed}), "", "")
	if st != 303 {
		t.Fatalf("propose renewal: %d", st)
	}
	_, body, _ = analyst.get(h.Get("Location"))
	wants(t, "renewal", body, "renewal", "expires: 2027-12-31 → 2028-12-31", "Renewal", "data steward: highest category is 2")

	// Enough proposals for two pages.
	a := review.Actor{ID: "analyst@staff.example.org", Role: auth.Analyst}
	for i := range 26 {
		y := strings.Replace(string(registry.DefaultYAML), "max_length: 16, category: 1", fmt.Sprintf("max_length: %d, category: 1", 17+i), 1)
		if _, err := n.srv.Reviews.Propose(ctx, a, review.Input{YAML: []byte(y)}, false); err != nil {
			t.Fatal(err)
		}
	}
	_, body, _ = analyst.get("/admin/reviews?owner=analyst@staff.example.org")
	if strings.Count(body, `<tr><td><a href="/admin/reviews/`) != 25 || !strings.Contains(body, "older →") {
		t.Fatalf("first page: %d rows", strings.Count(body, `<tr><td><a href="/admin/reviews/`))
	}
	older := regexp.MustCompile(`href="([^"]*before=[^"]*)">older`).FindStringSubmatch(body)
	_, body, _ = analyst.get(htmlUnescape(older[1]))
	if strings.Count(body, `<tr><td><a href="/admin/reviews/`) != 2 || !strings.Contains(body, `href="/admin/reviews/1"`) || strings.Contains(body, "older →") {
		t.Fatalf("second page:\n%s", plain(body))
	}
}

// TestReviewFormsBadInput: a form too large for a page, one without the
// revision read, and text that is not text are each refused with a
// readable page, and change nothing.
func TestReviewFormsBadInput(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	ctx := context.Background()
	analyst := signIn(t, n, auth.Analyst)
	csrf := analyst.csrf()
	// A file over the upload limit, and a plain form over the form limit.
	st, body, _ := analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}}, "huge.yaml", strings.Repeat("#", 5<<20))
	if st != 413 || !strings.Contains(plain(body), "A form may carry at most 64 KiB, or 4 MiB with a file; nothing was changed.") {
		t.Fatalf("huge upload: %d %s", st, plain(body))
	}
	inShell(t, "huge upload", body)
	if st, body, _ = analyst.postForm("/admin/reviews", url.Values{auth.CSRFField: {csrf}, "yaml": {strings.Repeat("#", 100<<10)}}); st != 413 {
		t.Fatalf("huge form: %d %s", st, plain(body))
	}
	// Nothing chosen, nothing pasted.
	if st, body, _ = analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}, "title": {"Empty"}}, "", ""); st != 400 ||
		!strings.Contains(plain(body), "Choose a registry file or paste one.") || !strings.Contains(body, `value="Empty"`) {
		t.Fatalf("no file: %d %s", st, plain(body))
	}
	// A link that is not an address.
	if st, body, _ = analyst.postMultipart("/admin/reviews", url.Values{auth.CSRFField: {csrf}, "links": {"SIGNIN-42"}}, "p.yaml", withWebActivity(t)); st != 400 ||
		!strings.Contains(plain(body), `Links: "SIGNIN-42" is not an http(s) address. Nothing was stored.`) {
		t.Fatalf("bad link: %d %s", st, plain(body))
	}
	if ps, _ := n.srv.Store.ListProposals(ctx, store.ProposalQuery{Limit: 10}); len(ps) != 0 {
		t.Fatalf("a refused form stored a proposal: %v", ps)
	}

	p, err := n.srv.Reviews.Propose(ctx, review.Actor{ID: "analyst@staff.example.org", Role: auth.Analyst}, review.Input{YAML: []byte(withWebActivity(t))}, false)
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/reviews/1"
	// No revision: 400, nothing done.
	if st, body, _ = analyst.postMultipart(path+"/withdraw", url.Values{auth.CSRFField: {csrf}}, "", ""); st != 400 ||
		!strings.Contains(plain(body), "The form did not say which revision you read; nothing was done.") {
		t.Fatalf("no revision: %d %s", st, plain(body))
	}
	// An answer holding NUL: 400 with the answers kept (made valid).
	_, body, _ = analyst.get(path)
	form := actionForm(t, body, path+"/answers", map[string]string{"answer.questions": "Where from?\x00", "answer.why": "Because \xff"})
	if st, body, _ = analyst.postMultipart(path+"/answers", form, "", ""); st != 400 || !strings.Contains(plain(body), "is not valid text") ||
		!strings.Contains(body, "Because \uFFFD</textarea>") {
		t.Fatalf("nul in an answer: %d %s", st, plain(body))
	}
	// A revised file that does not lint keeps what was typed, with the
	// lint's line numbers.
	bad := strings.Replace(withWebActivity(t), "type: string, max_length: 253", "type: strnig, max_length: 253", 1)
	form = actionForm(t, body, path+"/file", map[string]string{"yaml": bad})
	if st, body, _ = analyst.postMultipart(path+"/file", form, "", ""); st != 400 || !strings.Contains(plain(body), "does not lint") ||
		!strings.Contains(body, "type: strnig") || !strings.Contains(body, "<details open>") {
		t.Fatalf("bad revision: %d %s", st, plain(body))
	}
	if got, _ := n.srv.Store.GetProposal(ctx, p.ID); got.Revision != 1 || len(got.Answers) != 0 {
		t.Fatalf("a refused form changed the proposal: revision %d, answers %v", got.Revision, got.Answers)
	}
	// Withdrawn, it can no longer be withdrawn: 409.
	_, body, _ = analyst.get(path)
	if st, _, _ = analyst.postMultipart(path+"/withdraw", actionForm(t, body, path+"/withdraw", nil), "", ""); st != 303 {
		t.Fatalf("withdraw: %d", st)
	}
	if st, body, _ = analyst.postMultipart(path+"/withdraw", actionForm(t, body, path+"/withdraw", nil), "", ""); st != 409 ||
		!strings.Contains(plain(body), "Proposal 1 is withdrawn: it can no longer be withdrawn.") {
		t.Fatalf("withdraw twice: %d %s", st, plain(body))
	}
}
