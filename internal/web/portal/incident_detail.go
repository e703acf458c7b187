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
	"github.com/steward-privacy/steward/internal/workflow"
)

// accessesShown bounds the offending accesses an incident's page lists;
// the count is always the whole.
const accessesShown = 200

// incidentView is an incident's page.
type incidentView struct {
	CSRF     string
	I        store.Incident
	Clocks   []clockRow
	History  []store.IncidentEvent
	Accesses []store.IncidentAccess
	// More: the incident has more offending accesses than are listed.
	More bool
	// Blast and Severity are the assessment when computed.
	Blast       incident.BlastRadius
	HasBlast    bool
	Severity    incident.Severity
	HasSeverity bool
	// Factors are the severity's factors in the order ENISA lists them.
	Factors []factorRow
	// Drafts link the reports drafted from the incident (the Art. 33(3)
	// notification, printable, Markdown and JSON; the Art. 34
	// communication), served by portal routes (incident_drafts.go).
	Drafts []ui.Link
	// Unknown is what the authority report still lacks for a complete
	// Art. 33(3) notification (then it is phased, Art. 33(4)); CommUnknown
	// what the Art. 34 communication lacks before it can be sent.
	Unknown, CommUnknown []string
	// SeverityForm, DescribeForm and Communicate are the incident
	// managers' forms (none for readers; once the incident ended, only
	// the description, which the register keeps).
	SeverityForm *severityForm
	WindowForm   *windowForm
	DescribeForm *describeForm
	Communicate  bool
	// Actions are the forms the signed-in person may send (none for
	// readers).
	Actions []actionForm
	Final   bool
	Manage  bool
	// Reload offers a fresh read after a refused stale action.
	Reload bool
}

type factorRow struct {
	Name string
	F    incident.Factor
}

// actionForm is one action's form on the page.
type actionForm struct {
	Action, Label, Help string
	// NeedsNote: the service refuses it without reasoning.
	NeedsNote bool
	// Note is what was typed into this form when it was refused.
	Note string
}

var actionLabels = map[workflow.Action][2]string{
	incident.Assess:          {"Start the assessment", "Someone is looking into it: what happened, who is affected, how severe."},
	incident.NotifyAuthority: {"Record: the supervisory authority was notified", "Stops the authority's clock (Art. 33). Say how and with what reference."},
	incident.NotifySubjects:  {"Record: the affected people were told", "Stops the people's clock (Art. 34). Say how they were told."},
	incident.Close:           {"Close the incident", "Closing from the assessment means no notification was needed: the register keeps why (Art. 33(1), 33(5))."},
	incident.Dismiss:         {"Not a breach", "The finding was no personal data breach; the register keeps why."},
	incident.HighRisk:        {"Decide: high risk to people (Art. 34)", "Starts the people's clock. The register keeps the reasoning."},
	"note":                   {"Add a note", "What was done or found; it joins the timeline."},
}

// needsNote mirrors the service's rule so the form can say so; the
// service decides.
func needsNote(a workflow.Action, state string) bool {
	return a == incident.Dismiss || a == incident.HighRisk || a == "note" || (a == incident.Close && state == string(incident.Assessing))
}

// actionsFor lists the actions of an incident in its state: the table's
// transitions, then the decisions that keep the state, as the API lists
// them.
func actionsFor(i store.Incident) []workflow.Action {
	acts := incident.Lifecycle.Actions(workflow.State(i.State))
	if !incident.Lifecycle.Final(workflow.State(i.State)) {
		acts = append(acts, incident.HighRisk, "note")
	}
	return acts
}

func incidentID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

var incidentNotice = map[string]string{
	"opened":                         "The incident is opened; the dataset's owner and the incident managers were told.",
	string(incident.Assess):          "The assessment has started.",
	string(incident.NotifyAuthority): "Recorded: the supervisory authority was notified.",
	string(incident.NotifySubjects):  "Recorded: the affected people were told.",
	string(incident.Close):           "The incident is closed.",
	string(incident.Dismiss):         "Recorded as not a breach.",
	string(incident.HighRisk):        "The high-risk decision is recorded; the people's clock runs.",
	"severity":                       "The severity assessment is recorded.",
	"window":                         "The blast radius is computed for the window and kept on the incident.",
	"described":                      "The description is recorded for the reports.",
	"described-same":                 "Nothing changed: the description was already as sent.",
	"note":                           "The note joins the timeline.",
}

// Detail handles GET /admin/incidents/{id}, the page the detection
// e-mails link to.
func (s *Incidents) Detail(w http.ResponseWriter, r *http.Request) {
	s.detail(w, r, http.StatusOK, "", incidentNotice[r.URL.Query().Get("notice")], "", "", false)
}

// detail draws the page; typedAction and typedNote put back what was typed
// into a refused form.
func (s *Incidents) detail(w http.ResponseWriter, r *http.Request, status int, errText, notice, typedAction, typedNote string, reload bool) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	ctx := r.Context()
	i, err := s.Service.Store.GetIncident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		incidentNotFound(w, r)
		return
	}
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	hist, err := s.Service.Store.IncidentHistory(ctx, id)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	acc, err := s.Service.Store.IncidentAccesses(ctx, id, accessesShown+1)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !s.record(w, r, "portal incident "+strconv.FormatInt(id, 10), 1) {
		return
	}
	v := incidentView{CSRF: ui.FormToken(r), I: i, Clocks: clockRows(s.Service.Clocks(i, s.now())), History: hist,
		Final: incident.Lifecycle.Final(workflow.State(i.State)), Manage: canManage(r), Reload: reload}
	if len(acc) > accessesShown {
		v.Accesses, v.More = acc[:accessesShown], true
	} else {
		v.Accesses = acc
	}
	v.Blast, v.HasBlast = incident.BlastOf(i)
	v.Severity, v.HasSeverity = incident.SeverityOf(i)
	if v.HasSeverity {
		sv := v.Severity
		v.Factors = []factorRow{{"Data processing context (DPC)", sv.DPC}, {"Ease of identification (EI)", sv.EI},
			{"Circumstances: loss of confidentiality", sv.CB.Confidentiality}, {"Circumstances: loss of integrity", sv.CB.Integrity},
			{"Circumstances: loss of availability", sv.CB.Availability}, {"Circumstances: malicious intent", sv.CB.Malicious}}
	}
	s.drafted(r, &v)
	if v.Manage {
		for _, a := range actionsFor(i) {
			l := actionLabels[a]
			f := actionForm{Action: string(a), Label: l[0], Help: l[1], NeedsNote: needsNote(a, i.State)}
			if f.Label == "" {
				f.Label = string(a)
			}
			if string(a) == typedAction {
				f.Note = typedNote
			}
			v.Actions = append(v.Actions, f)
		}
	}
	s.render(w, r, status, "incident", ui.Page{Title: fmt.Sprintf("Incident %d: %s", i.ID, i.Title), Error: errText, Notice: notice, Data: v})
}

// Act handles POST /admin/incidents/{id}/{action}. The form carries the
// version its sender read: an incident changed in between is shown again
// rather than acted on unseen.
func (s *Incidents) Act(w http.ResponseWriter, r *http.Request) {
	// RequirePage has parsed the form and checked its CSRF token.
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	action := r.PathValue("action")
	if _, known := actionLabels[workflow.Action(action)]; !known {
		ui.Error(w, r, http.StatusNotFound, ui.Problem{Title: "No such action", Text: "Incidents have no action " + strconv.Quote(ui.ValidText(action)) + ".",
			Next: ui.Link{Label: fmt.Sprintf("Incident %d", id), Path: fmt.Sprintf("/admin/incidents/%d", id)}})
		return
	}
	note := formText(r, "note")
	if problem := textProblem(map[string]string{"the note": note}); problem != "" {
		s.detail(w, r, http.StatusBadRequest, problem+" Nothing was done.", "", action, ui.ValidText(note), false)
		return
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		s.detail(w, r, http.StatusBadRequest, "The form did not say which version of the incident you read; nothing was done. Reload the incident and try again.", "", action, note, true)
		return
	}
	_, err = s.Service.Act(r.Context(), id, incidentActor(r), incident.ActInput{Action: workflow.Action(action), Note: note, Version: version})
	var re *workflow.RefusedError
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?notice=%s", id, action), http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		incidentNotFound(w, r)
	case errors.Is(err, incident.ErrForbidden):
		ui.Error(w, r, http.StatusForbidden, ui.Problem{Title: "Not for your role", Text: "Only incident managers act on incidents; nothing was changed.",
			Next: ui.Link{Label: fmt.Sprintf("Incident %d", id), Path: fmt.Sprintf("/admin/incidents/%d", id)}})
	case errors.Is(err, incident.ErrInvalid):
		s.detail(w, r, http.StatusBadRequest, invalidSentence(err)+" Nothing was done.", "", action, note, false)
	case errors.As(err, &re):
		s.detail(w, r, http.StatusConflict, fmt.Sprintf("Incident %d is %s: “%s” is not possible from there. Nothing was done; read it as it is now.",
			id, re.From, actionLabels[workflow.Action(action)][0]), "", "", "", true)
	case errors.Is(err, store.ErrConflict):
		s.detail(w, r, http.StatusConflict, fmt.Sprintf("Incident %d changed since you read it; nothing was done. Read it as it is now and try again.", id),
			"", action, note, true)
	default:
		s.unavailable(w, r, err)
	}
}

// invalidSentence is the service's ErrInvalid message as a sentence
// ("note: close needs the reasoning, …" → "The note: close needs …").
func invalidSentence(err error) string {
	msg := strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": ")
	if field, rest, ok := strings.Cut(msg, ": "); ok && !strings.Contains(field, " ") {
		msg = fieldNames[field] + ": " + rest
		if fieldNames[field] == "" {
			msg = field + ": " + rest
		}
	}
	return sentenceOf(msg)
}

var fieldNames = map[string]string{"note": "The note", "title": "The title", "summary": "The summary", "dataset": "The dataset",
	"leak_at": "When the breach began", "aware_at": "When you became aware"}
