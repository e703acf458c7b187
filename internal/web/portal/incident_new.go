package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// incidentNewView is the form that opens an incident by hand: a lost
// laptop, a misdirected e-mail, anything the monitor cannot see.
type incidentNewView struct {
	CSRF            string
	Title, Summary  string
	Dataset         string
	LeakAt, AwareAt string
	Datasets        []datasetChoice
	Now             string
}

type datasetChoice struct{ Name, Owner string }

// localMinute is the value format of <input type="datetime-local">; the
// form says the times are UTC, so no browser's zone is guessed.
const localMinute = "2006-01-02T15:04"

func (s *Incidents) newView(r *http.Request) incidentNewView {
	v := incidentNewView{CSRF: ui.FormToken(r), Now: s.now().Format(localMinute)}
	if reg := s.Service.Registry.Current(); reg != nil {
		for _, d := range reg.Datasets {
			v.Datasets = append(v.Datasets, datasetChoice{Name: d.Name, Owner: d.Owner})
		}
	}
	return v
}

// New handles GET /admin/incidents/new.
func (s *Incidents) New(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "incident-new", ui.Page{Title: "Open an incident", Data: s.newView(r)})
}

// Create handles POST /admin/incidents: the incident is stored, its
// dataset's owner and the incident managers told, and the person sent to
// its page.
func (s *Incidents) Create(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r)
	v.Title, v.Summary, v.Dataset = formText(r, "title"), formText(r, "summary"), formText(r, "dataset")
	v.LeakAt, v.AwareAt = formText(r, "leak_at"), formText(r, "aware_at")
	again := func(msg string) {
		v.Title, v.Summary, v.Dataset, v.LeakAt, v.AwareAt = ui.ValidText(v.Title), ui.ValidText(v.Summary), ui.ValidText(v.Dataset), ui.ValidText(v.LeakAt), ui.ValidText(v.AwareAt)
		s.render(w, r, http.StatusBadRequest, "incident-new", ui.Page{Title: "Open an incident", Error: msg, Data: v})
	}
	if problem := textProblem(map[string]string{"the title": v.Title, "the summary": v.Summary, "the dataset": v.Dataset}); problem != "" {
		again(problem + " Nothing was stored.")
		return
	}
	in := incident.OpenInput{Title: v.Title, Summary: v.Summary, Dataset: v.Dataset}
	var bad []string
	for _, f := range []struct {
		name, value string
		to          *time.Time
	}{{"when the breach began", v.LeakAt, &in.LeakAt}, {"when you became aware", v.AwareAt, &in.AwareAt}} {
		if f.value == "" {
			continue
		}
		t, err := parseUTCMinute(f.value)
		if err != nil {
			bad = append(bad, f.name+" is a date and time like "+v.Now+" (UTC)")
			continue
		}
		*f.to = t
	}
	if len(bad) > 0 {
		again(sentenceOf(strings.Join(bad, "; ")) + " Nothing was stored.")
		return
	}
	i, err := s.Service.OpenByHand(r.Context(), incidentActor(r), in)
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?notice=opened", i.ID), http.StatusSeeOther)
	case errors.Is(err, incident.ErrForbidden):
		ui.Error(w, r, http.StatusForbidden, ui.Problem{Title: "Not for your role", Text: "Only incident managers open incidents; nothing was stored.", Next: registerLink})
	case errors.Is(err, incident.ErrInvalid):
		again(invalidSentence(err) + " Nothing was stored.")
	default:
		s.unavailable(w, r, err)
	}
}

// parseUTCMinute reads a datetime-local value (with or without seconds)
// as UTC.
func parseUTCMinute(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(localMinute, s, time.UTC); err == nil {
		return t, nil
	}
	return time.ParseInLocation(localMinute+":05", s, time.UTC)
}
