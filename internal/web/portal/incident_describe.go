package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// describeForm is what the reports take from a person: the likely
// consequences and the measures (Art. 33(3)(c), (d)) and, when the
// authority is told late, the reasons for the delay (Art. 33(1)).
type describeForm struct {
	Consequences, Measures, Delay string
}

func newDescribeForm(i store.Incident, r *http.Request) *describeForm {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/describe") {
		return &describeForm{Consequences: ui.ValidText(formText(r, "consequences")), Measures: ui.ValidText(formText(r, "measures")),
			Delay: ui.ValidText(formText(r, "delay_reasons"))}
	}
	return &describeForm{Consequences: i.Consequences, Measures: i.Measures}
}

var describeFieldNames = map[string]string{"consequences": "The likely consequences", "measures": "The measures",
	"delay_reasons": "The reasons for the delay"}

// versionOf reads the hidden version a form carries; the page says so
// when it is missing.
func (s *Incidents) versionOf(w http.ResponseWriter, r *http.Request) (int64, bool) {
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		s.detail(w, r, http.StatusBadRequest, "The form did not say which version of the incident you read; nothing was changed. Reload the incident and try again.", "", "", "", true)
		return 0, false
	}
	return version, true
}

// Describe handles POST /admin/incidents/{id}/describe. The consequences
// and measures are sent as the form shows them (a repeat writes nothing);
// reasons for the delay only when some are typed, as each is a history
// line of its own.
func (s *Incidents) Describe(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	cons, meas, delay := formText(r, "consequences"), formText(r, "measures"), formText(r, "delay_reasons")
	if problem := textProblem(map[string]string{"the likely consequences": cons, "the measures": meas, "the reasons for the delay": delay}); problem != "" {
		s.detail(w, r, http.StatusBadRequest, problem+" Nothing was changed.", "", "", "", false)
		return
	}
	version, ok := s.versionOf(w, r)
	if !ok {
		return
	}
	in := incident.DescribeInput{Consequences: &cons, Measures: &meas, Version: version}
	if delay != "" {
		in.Delay = &delay
	}
	i, err := s.Service.Describe(r.Context(), id, incidentActor(r), in)
	switch {
	case err == nil && i.Version == version:
		http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?notice=described-same#describe", id), http.StatusSeeOther)
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?notice=described#describe", id), http.StatusSeeOther)
	default:
		s.refused(w, r, id, err, "describe incidents", func(err error) string {
			msg := strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": ")
			if field, rest, ok := strings.Cut(msg, ": "); ok && describeFieldNames[field] != "" {
				msg = describeFieldNames[field] + ": " + rest
			}
			return sentenceOf(msg)
		})
	}
}

// Communicate handles POST /admin/incidents/{id}/communicate: the Art. 34
// communication goes by e-mail to each affected person with a confirmed
// address; the page then says how many were told and how many have no
// contact known (a public communication is then needed, Art. 34(3)(c)).
func (s *Incidents) Communicate(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	version, ok := s.versionOf(w, r)
	if !ok {
		return
	}
	res, err := s.Service.CommunicateToSubjects(r.Context(), id, incidentActor(r), incident.CommunicateInput{Version: version})
	switch {
	case err == nil:
		s.detail(w, r, http.StatusOK, "", communicatedSentence(res), "", "", false)
	case errors.Is(err, incident.ErrNotNow):
		s.detail(w, r, http.StatusConflict, sentenceOf(strings.TrimPrefix(err.Error(), incident.ErrNotNow.Error()+": "))+" Nothing was sent.", "", "", "", false)
	default:
		s.refused(w, r, id, err, "send the communication", func(err error) string {
			return sentenceOf(strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": ")) + " Nothing was sent."
		})
	}
}

// communicatedSentence is the outcome of a sending for the page.
func communicatedSentence(c incident.Communicated) string {
	msg := fmt.Sprintf("The Art. 34 communication went to %d %s by e-mail.", c.Sent, people(c.Sent))
	if c.Already > 0 {
		msg += fmt.Sprintf(" %d had been told before and were not written to again.", c.Already)
	}
	if c.NoContact > 0 {
		msg += fmt.Sprintf(" %d affected %s no contact known: a public communication is needed (Art. 34(3)(c)).", c.NoContact, map[bool]string{true: "person has", false: "people have"}[c.NoContact == 1])
	}
	if c.KeysTruncated {
		msg += " The blast radius keeps only part of the people's keys: recompute it to reach the rest."
	}
	return msg
}

func people[N int | int64](n N) string {
	if n == 1 {
		return "person"
	}
	return "people"
}

// refused draws the page again for an error of the incident service:
// 403, 404, 400 (in the words of sentence), 409 for a stale form.
func (s *Incidents) refused(w http.ResponseWriter, r *http.Request, id int64, err error, what string, sentence func(error) string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		incidentNotFound(w, r)
	case errors.Is(err, incident.ErrForbidden):
		ui.Error(w, r, http.StatusForbidden, ui.Problem{Title: "Not for your role", Text: "Only incident managers " + what + "; nothing was changed.",
			Next: ui.Link{Label: fmt.Sprintf("Incident %d", id), Path: fmt.Sprintf("/admin/incidents/%d", id)}})
	case errors.Is(err, incident.ErrInvalid):
		s.detail(w, r, http.StatusBadRequest, sentence(err), "", "", "", false)
	case errors.Is(err, store.ErrConflict):
		s.detail(w, r, http.StatusConflict, fmt.Sprintf("Incident %d changed since you read it; nothing was changed. Read it as it is now and try again.", id), "", "", "", true)
	default:
		s.unavailable(w, r, err)
	}
}
