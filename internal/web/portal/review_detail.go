package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// detailView is a proposal's page.
type detailView struct {
	CSRF string
	V    *review.View
	P    store.Proposal
	Doc  *review.Doc
	Me   review.Actor
	// MyRole is the signed-in role as the review names it.
	MyRole string
	Can    review.Permitted
	// Waiting says the proposal waits for the signed-in person's sign-off.
	Waiting   bool
	Matrix    []matrixRow
	SignOffs  []signOffRow
	Checklist []checkRow
	Questions []questionRow
	// Missing lists the questions still to answer before it is submitted.
	Missing []string
	Typed   typedReview
	// Problems are the lint messages of a refused file.
	Problems []string
	// Reload offers a fresh read after a refused stale action.
	Reload bool
}

type matrixRow struct {
	review.MatrixRow
	Title string
	// AfterPrivacy: this role approves only after privacy/technical review.
	AfterPrivacy bool
}

type signOffRow struct {
	store.SignOff
	Title     string
	Counts    bool
	Checklist []checkRow
}

// checkRow is one item of the reviewer's checklist: its question, what
// steward knows towards the answer, and the answer typed or given.
type checkRow struct {
	Key, Question string
	Hint          []string
	Answer        string
}

type questionRow struct {
	review.Answer
	// Typed is the proposer's answer in the form (the stored one, or what
	// was typed into a refused form).
	Typed string
}

// typedReview is what was written into a refused form, shown again.
type typedReview struct {
	Action                                  string
	Decision, Note, Mitigations             string
	Checklist                               map[string]string
	Position, Kind, Comment                 string
	Outcome, Reasoning, WithdrawNote, Title string
	Answers                                 map[string]string
	YAML                                    string
}

// checklistHints maps a checklist item to the request's questions whose
// known answers help with it.
var checklistHints = map[string][]string{
	"documentation": {"documentation"},
	"user_control":  {"opt_out"},
	"monitoring":    {"duration"},
	"third_party":   {"third_party"},
}

// ReviewDetail handles GET /admin/reviews/{id}.
func (rv *Reviews) ReviewDetail(w http.ResponseWriter, r *http.Request) {
	rv.detail(w, r, http.StatusOK, "", reviewNotice[r.URL.Query().Get("notice")], typedReview{})
}

func proposalID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (rv *Reviews) detail(w http.ResponseWriter, r *http.Request, status int, errText, notice string, t typedReview) {
	rv.detailWith(w, r, status, errText, notice, t, nil, false)
}

func (rv *Reviews) detailWith(w http.ResponseWriter, r *http.Request, status int, errText, notice string, t typedReview, problems []string, reload bool) {
	id, ok := proposalID(r)
	if !ok {
		notFound(w, r)
		return
	}
	v, err := rv.Service.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, r)
		return
	}
	if err != nil {
		rv.unavailable(w, r, err)
		return
	}
	me := actor(r)
	d := detailView{CSRF: ui.FormToken(r), V: v, P: v.Proposal, Doc: rv.Service.Document(v), Me: me, MyRole: review.RoleTitle(me.Role),
		Can: v.Permitted(me), Waiting: v.WaitingOn(me), Typed: t, Problems: problems, Reload: reload}
	known := map[string][]string{}
	for _, a := range d.Doc.Answers {
		known[a.Key] = a.Known
		typed, given := t.Answers[a.Key]
		if !given {
			typed = a.Given
		}
		d.Questions = append(d.Questions, questionRow{Answer: a, Typed: typed})
		if a.Proposer && a.Given == "" {
			d.Missing = append(d.Missing, fmt.Sprintf("%d. %s", a.Number, a.Text))
		}
	}
	for _, row := range v.Matrix {
		d.Matrix = append(d.Matrix, matrixRow{MatrixRow: row, Title: review.RoleTitle(row.Role), AfterPrivacy: v.WaitsForPrivacy(row)})
	}
	for _, c := range review.Checklist {
		d.Checklist = append(d.Checklist, checkRow{Key: c.Key, Question: c.Question, Hint: hint(c.Key, v, known), Answer: t.Checklist[c.Key]})
	}
	for i := range v.SignOffs {
		so := &v.SignOffs[i]
		row := signOffRow{SignOff: *so, Title: review.RoleTitle(auth.Role(so.Role))}
		for _, m := range v.Matrix {
			row.Counts = row.Counts || m.Approval == so
		}
		for _, c := range review.Checklist {
			if a := so.Checklist[c.Key]; a != "" {
				row.Checklist = append(row.Checklist, checkRow{Key: c.Key, Question: c.Question, Answer: a})
			}
		}
		d.SignOffs = append(d.SignOffs, row)
	}
	title := fmt.Sprintf("Proposal %d: %s", v.Proposal.ID, v.Proposal.Title)
	rv.render(w, r, status, "review", ui.Page{Title: title, Error: errText, Notice: notice, Data: d})
}

// hint is what steward knows towards a checklist answer.
func hint(key string, v *review.View, known map[string][]string) []string {
	switch key {
	case "category":
		top := 0
		for _, c := range v.Changes {
			top = max(top, int(c.Category))
		}
		var keys []string
		for _, c := range v.Changes {
			if int(c.Category) == top {
				keys = append(keys, c.Key())
			}
		}
		return []string{fmt.Sprintf("The highest category among the changes is %d (%s): %s.", top, registry.Category(top), strings.Join(keys, ", "))}
	case "notice":
		if len(v.Notice) == 0 {
			return []string{"steward sees no change to what the public notice says."}
		}
		return append([]string{"The public notice changes:"}, v.Notice...)
	case "new_identifiers":
		var out []string
		for _, c := range v.Changes {
			if c.NewIdentifier {
				out = append(out, "New identifier: "+c.Key()+".")
			}
		}
		if len(out) == 0 {
			out = []string{"steward sees no new identifier among the changes."}
		}
		return out
	}
	var out []string
	for _, q := range checklistHints[key] {
		out = append(out, known[q]...)
	}
	return out
}

var reviewNotice = map[string]string{
	"proposed": "The proposal is stored as a draft. Answer the questions below that the registry cannot answer, then submit it for review.",
	"submit":   "Submitted for review; the people whose sign-off it needs were told.",
	"answers":  "Your answers were saved as a new revision.",
	"file":     "The registry file was revised and diffed again; sign-offs count only for changes their reviewer saw as they are now.",
	"signoff":  "Your answer was recorded and the proposer told.",
	"approved": "Every required sign-off is in: the proposal is approved and its registry is in force.",
	"escalate": "Escalated to a product owner; every party was asked for their recommended approach.",
	"comment":  "Written down; the other parties were told.",
	"decide":   "The decision is recorded and the dispute closed.",
	"withdraw": "The proposal was withdrawn.",
}

// ReviewMarkdown handles GET /admin/reviews/{id}/request.md: the review
// request document as a Markdown file.
func (rv *Reviews) ReviewMarkdown(w http.ResponseWriter, r *http.Request) {
	id, ok := proposalID(r)
	if !ok {
		notFound(w, r)
		return
	}
	v, err := rv.Service.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, r)
		return
	}
	if err != nil {
		rv.unavailable(w, r, err)
		return
	}
	md, err := rv.Service.Document(v).Markdown()
	if err != nil {
		rv.unavailable(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/markdown; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="proposal-%d-request.md"`, id))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(md)
}
