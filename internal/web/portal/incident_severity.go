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

// severityFactor is one ENISA factor on the severity form: the value in
// force, steward's pre-score with its why, the scale to choose from and
// the reason an adjustment needs.
type severityFactor struct {
	Key, Label string
	F          incident.Factor
	Options    []scaleOption
	Reason     string
}

type scaleOption struct {
	Value, Label string
	Selected     bool
}

// severityForm is the incident manager's assessment form: every factor
// and the decision on Art. 33 and 34.
type severityForm struct {
	Factors []severityFactor
	// Art33, Art34 are "", "yes" or "no" as the form sends them: empty
	// leaves the decision as it stands.
	Art33, Art34, Reasoning string
}

// factorLabels name the API's factors for a person, in ENISA's order.
var factorLabels = []struct{ Key, Label string }{
	{"dpc", "Data processing context (DPC)"},
	{"ei", "Ease of identification (EI)"},
	{"confidentiality", "Circumstances: loss of confidentiality"},
	{"integrity", "Circumstances: loss of integrity"},
	{"availability", "Circumstances: loss of availability"},
	{"malicious", "Circumstances: malicious intent"},
}

// scaleLabels are ENISA's words for each step of a scale.
var scaleLabels = map[string]map[float64]string{
	"dpc":             {1: "simple", 2: "behavioural", 3: "financial", 4: "sensitive"},
	"ei":              {0.25: "negligible", 0.5: "limited", 0.75: "significant", 1: "maximum"},
	"confidentiality": {0: "none", 0.25: "known recipients", 0.5: "unknown number of recipients"},
	"integrity":       {0: "none", 0.25: "altered, recoverable", 0.5: "altered, possibly used wrongly"},
	"availability":    {0: "none", 0.25: "temporary", 0.5: "permanent"},
	"malicious":       {0: "no intent shown", 0.5: "malicious"},
}

func factorOf(sev incident.Severity, key string) incident.Factor {
	switch key {
	case "dpc":
		return sev.DPC
	case "ei":
		return sev.EI
	case "confidentiality":
		return sev.CB.Confidentiality
	case "integrity":
		return sev.CB.Integrity
	case "availability":
		return sev.CB.Availability
	}
	return sev.CB.Malicious
}

// severityInForce is what an assessment starts from, as Assess computes
// it: the stored assessment repriced on the blast radius as it now
// stands, or steward's pre-score while none is stored.
func severityInForce(i store.Incident) incident.Severity {
	b, ok := incident.BlastOf(i)
	if sev, stored := incident.SeverityOf(i); stored {
		return incident.Reprice(sev, i, b, ok)
	}
	return incident.PreScore(i, b, ok)
}

// scaleValue is a scale's step as the form sends it ("0.25").
func scaleValue(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// newSeverityForm fills the form from the severity in force, or, when a
// refused form is drawn again, with what was sent.
func newSeverityForm(sev incident.Severity, r *http.Request) *severityForm {
	typed := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/severity")
	f := &severityForm{}
	for _, fl := range factorLabels {
		sf := severityFactor{Key: fl.Key, Label: fl.Label, F: factorOf(sev, fl.Key)}
		chosen := scaleValue(sf.F.Value)
		if typed {
			chosen, sf.Reason = r.PostFormValue(fl.Key), ui.ValidText(formText(r, fl.Key+"_reason"))
		}
		// The same Go values as the API's "scales": a form offers nothing
		// the service would refuse.
		for _, v := range incident.Scales[fl.Key] {
			sf.Options = append(sf.Options, scaleOption{Value: scaleValue(v), Label: scaleValue(v) + " " + scaleLabels[fl.Key][v], Selected: scaleValue(v) == chosen})
		}
		f.Factors = append(f.Factors, sf)
	}
	if typed {
		f.Art33, f.Art34, f.Reasoning = r.PostFormValue("art33"), r.PostFormValue("art34"), ui.ValidText(formText(r, "reasoning"))
	}
	return f
}

var severityFieldNames = map[string]string{
	"dpc": "the data processing context (DPC)", "ei": "the ease of identification (EI)",
	"confidentiality": "the loss of confidentiality", "integrity": "the loss of integrity",
	"availability": "the loss of availability", "malicious": "malicious intent",
}

// assessSentence is the service's refusal with its field named for a
// person: "dpc.reason: …" → "The reason for the data processing context
// (DPC): …", "decision.art34: …" → "Art. 34 applies?: …".
func assessSentence(err error) string {
	msg := strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": ")
	field, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		return sentenceOf(msg)
	}
	name, part, _ := strings.Cut(field, ".")
	switch {
	case name == "decision" && part == "art33":
		field = "Art. 33 applies? (notify the supervisory authority)"
	case name == "decision" && part == "art34":
		field = "Art. 34 applies? (tell the people affected)"
	case name == "decision":
		field = "The reasoning of the decision"
	case severityFieldNames[name] != "" && part == "reason":
		field = "The reason for " + severityFieldNames[name]
	case severityFieldNames[name] != "":
		field = "The value of " + severityFieldNames[name]
	}
	return sentenceOf(field + ": " + rest)
}

// Assess handles POST /admin/incidents/{id}/severity: each factor whose
// value was changed, or that was given a reason, is an adjustment (the
// service refuses one without a reason); the decision is sent when either
// answer or the reasoning was given.
func (s *Incidents) Assess(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	i, err := s.Service.Store.GetIncident(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		incidentNotFound(w, r)
		return
	}
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	texts := map[string]string{"the reasoning": formText(r, "reasoning")}
	for _, fl := range factorLabels {
		texts["the reason for "+severityFieldNames[fl.Key]] = formText(r, fl.Key+"_reason")
	}
	if problem := textProblem(texts); problem != "" {
		s.detail(w, r, http.StatusBadRequest, problem+" Nothing was changed.", "", "", "", false)
		return
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		s.detail(w, r, http.StatusBadRequest, "The form did not say which version of the incident you read; nothing was changed. Reload the incident and try again.", "", "", "", true)
		return
	}
	in := incident.AssessInput{Version: version}
	// The form shows the values in force; what differs is what was
	// adjusted. A stale form is refused below, so "differs" is against
	// what its sender read only when the versions match.
	current := severityInForce(i)
	adjust := map[string]**incident.Adjustment{"dpc": &in.DPC, "ei": &in.EI, "confidentiality": &in.Confidentiality,
		"integrity": &in.Integrity, "availability": &in.Availability, "malicious": &in.Malicious}
	for _, fl := range factorLabels {
		raw, reason := strings.TrimSpace(r.PostFormValue(fl.Key)), formText(r, fl.Key+"_reason")
		if raw == "" && reason == "" {
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			s.detail(w, r, http.StatusBadRequest, sentenceOf("The value of "+severityFieldNames[fl.Key]+": choose one from the list")+" Nothing was changed.", "", "", "", false)
			return
		}
		if v == factorOf(current, fl.Key).Value && reason == "" {
			continue
		}
		*adjust[fl.Key] = &incident.Adjustment{Value: &v, Reason: reason}
	}
	a33, a34, reasoning := r.PostFormValue("art33"), r.PostFormValue("art34"), formText(r, "reasoning")
	if a33 != "" || a34 != "" || reasoning != "" {
		d := &incident.Decision{Reasoning: reasoning}
		for _, p := range []struct {
			v  string
			to **bool
		}{{a33, &d.Art33}, {a34, &d.Art34}} {
			switch p.v {
			case "yes":
				*p.to = new(true)
			case "no":
				*p.to = new(false)
			}
		}
		in.Decision = d
	}
	_, err = s.Service.Assess(r.Context(), id, incidentActor(r), in)
	var re *workflow.RefusedError
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?notice=severity#severity", id), http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		incidentNotFound(w, r)
	case errors.Is(err, incident.ErrForbidden):
		ui.Error(w, r, http.StatusForbidden, ui.Problem{Title: "Not for your role", Text: "Only incident managers assess incidents; nothing was changed.",
			Next: ui.Link{Label: fmt.Sprintf("Incident %d", id), Path: fmt.Sprintf("/admin/incidents/%d", id)}})
	case errors.Is(err, incident.ErrInvalid):
		s.detail(w, r, http.StatusBadRequest, assessSentence(err)+" Nothing was changed.", "", "", "", false)
	case errors.As(err, &re):
		s.detail(w, r, http.StatusConflict, fmt.Sprintf("Incident %d is %s: its severity is no longer assessed. Nothing was changed.", id, re.From), "", "", "", true)
	case errors.Is(err, store.ErrConflict):
		s.detail(w, r, http.StatusConflict, fmt.Sprintf("Incident %d changed since you read it; nothing was changed. Read it as it is now and try again.", id), "", "", "", true)
	default:
		s.unavailable(w, r, err)
	}
}
