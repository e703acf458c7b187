package portal

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// sentence is a refusal of the form as a sentence: without the error's
// generic prefix, capitalised.
func sentence(err error) string {
	s := strings.TrimPrefix(err.Error(), rights.ErrBadIntake.Error()+": ")
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Act handles POST /admin/requests/{id}/{action}.
func (p *Portal) Act(w http.ResponseWriter, r *http.Request) {
	// RequirePage has parsed the form and checked its CSRF token.
	id, action := r.PathValue("id"), r.PathValue("action")
	who, _ := auth.FromContext(r.Context())
	actor := who.Name
	cur, err := p.Rights.Request(r.Context(), id)
	if err != nil {
		p.detail(w, r, http.StatusNotFound, "", "", typed{})
		return
	}
	if v := r.PostFormValue("version"); v != strconv.FormatInt(cur.Version, 10) {
		p.detail(w, r, http.StatusConflict, "Someone changed this request since you opened it; nothing was done. Check the page and try again.", "", typed{})
		return
	}
	switch action {
	case "take":
		_, err = p.Rights.Take(r.Context(), id, actor)
	case "ask":
		_, err = p.Rights.AskUser(r.Context(), id, actor, r.PostFormValue("question"))
	case "execute":
		_, err = p.Rights.Execute(r.Context(), id, actor)
	case "reject":
		_, err = p.Rights.RejectRequest(r.Context(), id, actor, r.PostFormValue("reason"))
	case "extend":
		_, err = p.Rights.Extend(r.Context(), id, actor, r.PostFormValue("reason"))
	default:
		p.detail(w, r, http.StatusNotFound, "Unknown action.", "", typed{})
		return
	}
	var se *rights.StepError
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/requests/"+id+"?notice="+action, http.StatusSeeOther)
	case errors.As(err, &se):
		p.detail(w, r, http.StatusOK, "A step failed: "+se.Error()+". Finished steps are kept; “Retry” runs only what is left.", "", typed{})
	case errors.Is(err, rights.ErrBadIntake):
		// A mistake in the form: the page again, with what was typed
		// (made valid text, so the page is).
		t := typed{}
		switch action {
		case "ask":
			t.Ask = ui.ValidText(r.PostFormValue("question"))
		case "reject":
			t.Reject = ui.ValidText(r.PostFormValue("reason"))
		case "extend":
			t.Extend = ui.ValidText(r.PostFormValue("reason"))
		}
		p.detail(w, r, http.StatusBadRequest, sentence(err), "", t)
	case errors.Is(err, rights.ErrNotReady), errors.Is(err, rights.ErrChanged):
		p.detail(w, r, http.StatusConflict, err.Error(), "", typed{})
	default:
		p.Log.Error("portal: action failed", "action", action, "request", id, "err", err)
		p.detail(w, r, http.StatusServiceUnavailable, "The action could not be completed just now; nothing was lost. Try again in a minute.", "", typed{})
	}
}
