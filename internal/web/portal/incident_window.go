package portal

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// windowForm is the blast radius's question as the page shows it: what
// (a credential as the monitor names it, a dataset, or both), from which
// source, over which window. It starts from the radius kept, else from
// the incident, as SetWindow fills an empty field.
type windowForm struct {
	From, To, Now, Credential, Dataset, Source string
	Datasets                                   []datasetChoice
}

func (s *Incidents) newWindowForm(i store.Incident, b incident.BlastRadius, hasBlast bool, r *http.Request) *windowForm {
	f := &windowForm{Now: s.now().Format(localMinute), Credential: i.Credential, Dataset: i.Dataset, Source: incident.BlastAccessLog}
	if reg := s.Service.Registry.Current(); reg != nil {
		for _, d := range reg.Datasets {
			f.Datasets = append(f.Datasets, datasetChoice{Name: d.Name, Owner: d.Owner})
		}
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/window"):
		f.From, f.To = ui.ValidText(formText(r, "from")), ui.ValidText(formText(r, "to"))
		f.Credential, f.Dataset = ui.ValidText(formText(r, "credential")), ui.ValidText(formText(r, "dataset"))
		f.Source = ui.ValidText(formText(r, "source"))
	case hasBlast:
		f.From, f.To, f.Credential, f.Dataset, f.Source = b.From.UTC().Format(localMinute), b.To.UTC().Format(localMinute), b.Credential, b.Dataset, b.Source
	case !i.WindowFrom.IsZero():
		f.From, f.To = i.WindowFrom.UTC().Format(localMinute), i.WindowTo.UTC().Format(localMinute)
	case !i.LeakAt.IsZero():
		f.From = i.LeakAt.UTC().Format(localMinute)
	}
	return f
}

// Window handles POST /admin/incidents/{id}/window: the blast radius is
// computed again for what the form asks and replaces the one kept.
func (s *Incidents) Window(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(r)
	if !ok {
		incidentNotFound(w, r)
		return
	}
	in := incident.WindowInput{Credential: formText(r, "credential"), Dataset: formText(r, "dataset"), Source: formText(r, "source")}
	for _, t := range []struct {
		name  string
		value string
		into  *time.Time
	}{{"The window's start", formText(r, "from"), &in.From}, {"The window's end", formText(r, "to"), &in.To}} {
		if t.value == "" {
			continue // SetWindow takes it from the radius kept or the incident
		}
		v, err := parseUTCMinute(t.value)
		if err != nil {
			s.detail(w, r, http.StatusBadRequest, t.name+" is not a date and time (UTC, as 2026-11-22T14:30); nothing was changed.", "", "", "", false)
			return
		}
		*t.into = v
	}
	if problem := textProblem(map[string]string{"the credential": in.Credential, "the dataset": in.Dataset, "the source": in.Source}); problem != "" {
		s.detail(w, r, http.StatusBadRequest, problem+" Nothing was changed.", "", "", "", false)
		return
	}
	version, ok := s.versionOf(w, r)
	if !ok {
		return
	}
	in.Version = version
	if _, err := s.Service.SetWindow(r.Context(), id, incidentActor(r), in); err != nil {
		s.refused(w, r, id, err, "set the blast radius", func(err error) string {
			return sentenceOf(strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": ")) + " Nothing was changed."
		})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?notice=window#blast", id), http.StatusSeeOther)
}
