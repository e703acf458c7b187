package portal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
	"github.com/steward-privacy/steward/internal/workflow"
)

// Reviews serves the data collection review's pages under /admin/reviews:
// the list with its filters and what expires soon, the upload of a
// proposal, and a proposal's page with its diff, request document,
// sign-off matrix and the actions the signed-in person may take.
type Reviews struct {
	Service *review.Service
	Log     *slog.Logger
}

// actor is the signed-in person as the review service knows them.
func actor(r *http.Request) review.Actor {
	ss, _ := auth.SessionFromContext(r.Context())
	return review.Actor{ID: ss.Name, Role: auth.Role(ss.Role)}
}

func (rv *Reviews) render(w http.ResponseWriter, r *http.Request, status int, name string, p ui.Page) {
	p.Wide = true
	if err := pages.Render(w, r, status, name, p); err != nil {
		rv.Log.Error("portal: render failed", "page", name, "err", err)
	}
}

func (rv *Reviews) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	rv.Log.Error("portal: reviews failed", "err", err)
	w.Header().Set("Retry-After", "30")
	ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Title: "Please try again",
		Text: "The reviews could not be read or changed just now; nothing was lost. Try again in a minute.",
		Next: ui.Link{Label: "All reviews", Path: "/admin/reviews"}})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No such proposal", Text: "There is no proposal with that number.",
		Next: ui.Link{Label: "All reviews", Path: "/admin/reviews"}})
}

// reviewRow is one proposal in the list.
type reviewRow struct {
	P        store.Proposal
	Required []string
	// Waiting says the proposal waits for the signed-in person's sign-off.
	Waiting bool
}

type listView struct {
	State, Category, Owner string
	Waiting                bool
	States                 []string
	Rows                   []reviewRow
	Newest, Older          string
	Expiring               []review.Expiring
	Now                    time.Time
	// Propose: the signed-in role may propose changes.
	Propose bool
	Me      string
}

// listBatch is how many proposals one store query reads while filling a
// page that filters in memory ("waiting on me").
const listBatch = 100

// ReviewList handles GET /admin/reviews.
func (rv *Reviews) ReviewList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	me := actor(r)
	v := listView{State: q.Get("state"), Category: q.Get("category"), Owner: strings.TrimSpace(q.Get("owner")),
		Waiting: q.Get("waiting") != "", Now: rv.Service.Clock.Now(), Me: me.ID,
		Propose: slices.Contains(review.ProposerRoles, me.Role)}
	v.States = append([]string{"open"}, stateNames()...)
	query := store.ProposalQuery{Owner: v.Owner, Limit: listBatch}
	var problems []string
	switch {
	case v.State == "":
	case v.State == "open":
		for _, st := range review.Open {
			query.States = append(query.States, string(st))
		}
	case review.Lifecycle.Has(workflow.State(v.State)):
		query.States = []string{v.State}
	default:
		problems = append(problems, "unknown state")
	}
	if v.Category != "" {
		c, err := strconv.Atoi(v.Category)
		if err != nil || c < 1 || c > 4 {
			problems = append(problems, "the category is 1 to 4")
		}
		query.MinCategory = c
	}
	if len(v.Owner) > 254 || !ui.IsText(v.Owner) {
		problems = append(problems, "the proposer "+strings.TrimSuffix(ui.NotText, "."))
		v.Owner = ui.ValidText(v.Owner)
	}
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			problems = append(problems, "“before” must be a proposal number")
		}
		before = n
	}
	if v.Waiting {
		// Only a proposal in review waits for anyone, and only for a role
		// it requires.
		if v.State != "" && v.State != string(review.InReview) && v.State != "open" {
			problems = append(problems, "“waiting on me” lists proposals in review only")
		}
		query.States, query.Role = []string{string(review.InReview)}, string(me.Role)
	}
	if len(problems) > 0 {
		rv.render(w, r, http.StatusBadRequest, "reviews", ui.Page{Title: "Data collection reviews",
			Error: "Please fix the filter: " + strings.Join(problems, "; ") + ".", Data: v})
		return
	}
	more := false
	for {
		query.Before = before
		batch, err := rv.Service.Store.ListProposals(r.Context(), query)
		if err != nil {
			rv.unavailable(w, r, err)
			return
		}
		for _, p := range batch {
			row := reviewRow{P: p}
			for _, role := range p.Required {
				row.Required = append(row.Required, review.RoleTitle(auth.Role(role)))
			}
			// The stored fields say whether the proposal could wait on this
			// person; only the view says whether an approval still counts.
			if p.State == string(review.InReview) && slices.Contains(p.Required, string(me.Role)) && p.Owner != me.ID {
				view, err := rv.Service.View(r.Context(), p)
				if err != nil {
					rv.unavailable(w, r, err)
					return
				}
				row.Waiting = view.WaitingOn(me)
			}
			if v.Waiting && !row.Waiting {
				continue
			}
			if len(v.Rows) == PageSize {
				more = true
				break
			}
			v.Rows = append(v.Rows, row)
		}
		if more || len(batch) < listBatch {
			break
		}
		before = batch[len(batch)-1].ID
	}
	link := func(before int64) string {
		q2 := url.Values{}
		for k, vs := range q {
			q2[k] = vs
		}
		q2.Del("before")
		if before > 0 {
			q2.Set("before", strconv.FormatInt(before, 10))
		}
		if len(q2) == 0 {
			return "/admin/reviews"
		}
		return "/admin/reviews?" + q2.Encode()
	}
	if q.Get("before") != "" {
		v.Newest = link(0)
	}
	if more {
		v.Older = link(v.Rows[len(v.Rows)-1].P.ID)
	}
	v.Expiring = rv.Service.ExpiringSoon(v.Now)
	rv.render(w, r, http.StatusOK, "reviews", ui.Page{Title: "Data collection reviews", Data: v})
}

func stateNames() []string {
	var out []string
	for _, st := range review.Lifecycle.States() {
		out = append(out, string(st))
	}
	return out
}

// newView is the proposal form.
type newView struct {
	CSRF         string
	Title, Links string
	YAML         string
	// Renew is the key a renewal is proposed for, with its expiry now.
	Renew        string
	RenewExpires time.Time
	Problems     []string
	Version      int64
	// GleanAppID and GleanAppVersion are a Glean import's form fields.
	GleanAppID, GleanAppVersion string
}

// ReviewNew handles GET /admin/reviews/new; ?renew=dataset.field fills in
// the registry in force for a renewal of that field or dataset.
func (rv *Reviews) ReviewNew(w http.ResponseWriter, r *http.Request) {
	v := newView{CSRF: ui.FormToken(r), Version: rv.Service.Registry.Version()}
	key := strings.TrimSpace(r.URL.Query().Get("renew"))
	if key == "" {
		rv.render(w, r, http.StatusOK, "review-new", ui.Page{Title: "Propose a registry change", Data: v})
		return
	}
	exp, ok := expiryOf(rv.Service.Registry.Current(), key)
	if !ok {
		rv.render(w, r, http.StatusBadRequest, "review-new", ui.Page{Title: "Propose a registry change",
			Error: fmt.Sprintf("There is no dataset or field %q in the registry in force to renew.", ui.ValidText(key)), Data: v})
		return
	}
	v.Renew, v.RenewExpires, v.Title = key, exp, "Renewal of "+key
	if v.Version > 0 {
		cur, err := rv.Service.Store.GetRegistryVersion(r.Context(), v.Version)
		if err != nil {
			rv.unavailable(w, r, err)
			return
		}
		v.YAML = string(cur.YAML)
	}
	rv.render(w, r, http.StatusOK, "review-new", ui.Page{Title: "Propose a registry change", Data: v})
}

// expiryOf finds "dataset" or "dataset.field" in reg and its expiry.
func expiryOf(reg *registry.Registry, key string) (time.Time, bool) {
	if reg == nil {
		return time.Time{}, false
	}
	ds, field, _ := strings.Cut(key, ".")
	d := reg.Dataset(ds)
	if d == nil {
		return time.Time{}, false
	}
	if field == "" {
		return d.Expires, true
	}
	f := d.Field(field)
	if f == nil {
		return time.Time{}, false
	}
	return f.Expires, true
}

// ReviewCreate handles POST /admin/reviews: a registry file uploaded or
// pasted becomes a draft proposal.
func (rv *Reviews) ReviewCreate(w http.ResponseWriter, r *http.Request) {
	v := newView{CSRF: ui.FormToken(r), Version: rv.Service.Registry.Version(),
		Title: formText(r, "title"), Links: formText(r, "links"), Renew: formText(r, "renew")}
	if v.Renew != "" {
		if exp, ok := expiryOf(rv.Service.Registry.Current(), v.Renew); ok {
			v.RenewExpires = exp
		} else {
			v.Renew = ""
		}
	}
	var data []byte
	var name, problem string
	var gleanProblems, warnings []string
	if appID := formText(r, "glean_app_id"); appID != "" {
		v.GleanAppID, v.GleanAppVersion = appID, formText(r, "glean_app_version")
		data, name, problem, gleanProblems, warnings = rv.gleanFile(r, appID, v.GleanAppVersion)
	} else {
		data, name, problem = registryFile(r)
	}
	v.YAML = ui.ValidText(string(data))
	again := func(status int, msg string, problems []string) {
		v.Problems = problems
		rv.render(w, r, status, "review-new", ui.Page{Title: "Propose a registry change", Error: msg, Data: v})
	}
	if problem == "" && len(data) == 0 {
		problem = "Choose a registry file or paste one."
	}
	if problem == "" {
		problem = textProblem(map[string]string{"the title": v.Title, "the links": v.Links})
	}
	if problem != "" {
		again(http.StatusBadRequest, problem, gleanProblems)
		return
	}
	p, err := rv.Service.Propose(r.Context(), actor(r), review.Input{YAML: data, Name: name, Title: v.Title, Links: lines(v.Links), Warnings: warnings}, false)
	var fe *review.ForbiddenError
	var ie *review.InvalidError
	var pe *registry.ProblemsError
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/admin/reviews/%d?notice=proposed", p.ID), http.StatusSeeOther)
	case errors.As(err, &fe):
		ui.Error(w, r, http.StatusForbidden, ui.Problem{Title: "Not for your role", Text: sentenceOf(fe.Reason) + " Nothing was stored.",
			Next: ui.Link{Label: "All reviews", Path: "/admin/reviews"}})
	case errors.As(err, &pe):
		again(http.StatusBadRequest, lintSummary(pe), lintLines(pe))
	case errors.As(err, &ie):
		again(http.StatusBadRequest, sentenceOf(ie.Error())+" Nothing was stored.", nil)
	case errors.Is(err, review.ErrNoChange):
		again(http.StatusBadRequest, fmt.Sprintf("The file changes nothing in the approved registry (version %d); nothing was stored.", v.Version), nil)
	default:
		rv.unavailable(w, r, err)
	}
}

// gleanFile is the proposal a Glean import makes of the uploaded
// metrics.yaml and pings.yaml files, added to the registry in force (see
// docs/glean.md). problems lists the import's findings with file and line.
func (rv *Reviews) gleanFile(r *http.Request, appID, appVersion string) (data []byte, name, problem string, problems, warnings []string) {
	opt := glean.Options{AppID: appID, Now: time.Now().UTC()}
	if appVersion != "" {
		n, err := strconv.Atoi(appVersion)
		if err != nil || n < 1 {
			return nil, "", "The app's major version is a whole number above 0, like 120.", nil, nil
		}
		opt.AppVersion = n
	}
	var files []glean.File
	if r.MultipartForm != nil {
		for _, h := range r.MultipartForm.File["glean"] {
			f, err := h.Open()
			if err != nil {
				return nil, "", "An uploaded file could not be read; choose it again.", nil, nil
			}
			b, err := io.ReadAll(f)
			f.Close()
			fname := ui.ValidText(h.Filename)
			if err != nil || !validDocument(string(b)) {
				return nil, "", "An uploaded file is not UTF-8 text; choose metrics.yaml and pings.yaml.", nil, nil
			}
			files = append(files, glean.File{Name: fname, Data: b})
		}
	}
	if len(files) == 0 {
		return nil, "", "Choose the Glean metrics.yaml (and pings.yaml) files to import.", nil, nil
	}
	v := rv.Service.Registry.Version()
	if v == 0 {
		return nil, "", "No registry is approved yet: propose a registry first, then import Glean's files into it.", nil, nil
	}
	rec, err := rv.Service.Store.GetRegistryVersion(r.Context(), v)
	if err != nil {
		return nil, "", "The registry in force could not be read; try again in a moment.", nil, nil
	}
	res, err := glean.Import(files, opt)
	if err == nil {
		data, err = glean.Proposal(rec.YAML, res, appID, opt.Now)
	}
	var ge *glean.Error
	switch {
	case errors.As(err, &ge):
		for _, p := range ge.Problems {
			problems = append(problems, p.String())
		}
		return nil, "", fmt.Sprintf("The Glean files have %d problem(s); nothing was stored.", len(ge.Problems)), problems, nil
	case err != nil:
		return nil, "", sentenceOf(err.Error()) + " Nothing was stored.", nil, nil
	}
	for _, w := range res.Warnings {
		warnings = append(warnings, w.String())
	}
	return data, "Glean import", "", nil, warnings
}

// registryFile is the registry a form carries: the uploaded file when one
// was chosen, else the pasted text. The problem is a sentence for the
// person ("" when the file can be read).
func registryFile(r *http.Request) (data []byte, name, problem string) {
	if f, h, err := r.FormFile("file"); err == nil {
		defer f.Close()
		buf, err := io.ReadAll(f)
		if err != nil {
			return nil, "", "The uploaded file could not be read; choose it again."
		}
		data, name = buf, h.Filename
		if name = ui.ValidText(name); len(name) > 100 || !ui.IsText(name) || name == "" {
			name = "uploaded file"
		}
	} else {
		data, name = []byte(strings.ReplaceAll(r.PostFormValue("yaml"), "\r\n", "\n")), "pasted registry"
	}
	if !validDocument(string(data)) {
		return data, name, "The registry file is not UTF-8 text (or holds a control character); save it as UTF-8 and try again."
	}
	return data, name, ""
}

// validDocument: UTF-8 without control characters other than line breaks
// and tabs, so it can be stored and shown again.
func validDocument(s string) bool {
	return ui.IsText(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(s))
}

// formText is a form field as typed, line breaks normalised.
func formText(r *http.Request, name string) string {
	return strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n"))
}

// maxText bounds every field a review form keeps (a title, an answer, a
// note); the forms say so with maxlength too.
const maxText = 20000

// textProblem names the first field that is not text, or too long.
func textProblem(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch v := fields[k]; {
		case !validDocument(v):
			return sentenceOf(k + " " + ui.NotText)
		case utf8.RuneCountInString(v) > maxText:
			return sentenceOf(fmt.Sprintf("%s is too long: at most %d characters", k, maxText))
		}
	}
	return ""
}

// lines splits a field of one item per line.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func lintSummary(pe *registry.ProblemsError) string {
	return fmt.Sprintf("The registry file does not lint: %d problem(s), listed below. Nothing was stored.", len(pe.Problems))
}

func lintLines(pe *registry.ProblemsError) []string {
	out := make([]string, len(pe.Problems))
	for i, p := range pe.Problems {
		if p.Line > 0 {
			out[i] = fmt.Sprintf("line %d: %s", p.Line, p.Message)
		} else {
			out[i] = p.Message
		}
	}
	return out
}

// sentenceOf capitalises s and ends it with a full stop.
func sentenceOf(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
