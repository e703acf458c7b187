package portal

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/volume"
	"github.com/steward-privacy/steward/internal/web/chart"
)

// Days is how far back the collection page goes.
const Days = 30

// Volume gives the daily collection counts (volume.Tally: the stored
// ones and this node's not yet stored).
type Volume interface {
	Days(ctx context.Context, from, to time.Time) ([]store.CollectionDay, error)
}

type collectionView struct {
	From, To time.Time
	Days     int
	Datasets []datasetVolume
}

type datasetVolume struct {
	Name                       string
	Accepted, Dropped, Refused int64
	// Events stacks each day's accepted and dropped events; Drops shows
	// the dropped ones alone by reason, at their own scale.
	Events, Drops chart.Figure
	// Refusals are requests refused before anything was stored, by
	// reason, most first.
	Refusals []refusal
}

type refusal struct {
	Reason string
	N      int64
}

// Collection handles GET /admin/collection: per dataset and day, the
// events accepted and those dropped, by reason, over the last 30 days,
// and the requests refused. Counts only.
func (p *Portal) Collection(w http.ResponseWriter, r *http.Request) {
	now := p.Rights.Clock.Now().UTC()
	to := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.AddDate(0, 0, -Days)
	rows, err := p.Volume.Days(r.Context(), from, to)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	// Every declared dataset has a chart, collected or not; a name that
	// is not declared ("unknown") only when something was sent to it.
	var names []string
	if p.Registry != nil {
		for _, ds := range p.Registry.Current().Datasets {
			names = append(names, ds.Name)
		}
	}
	byName := map[string][]store.CollectionDay{}
	for _, row := range rows {
		if !slices.Contains(names, row.Dataset) {
			names = append(names, row.Dataset)
		}
		byName[row.Dataset] = append(byName[row.Dataset], row)
	}
	v := collectionView{From: from, To: to.Add(-time.Second), Days: Days}
	for _, name := range names {
		v.Datasets = append(v.Datasets, datasetChart(name, byName[name], from))
	}
	p.renderPage(w, r, http.StatusOK, "collection", "Collection", v)
}

// datasetChart stacks each day's accepted events and its dropped ones by
// reason.
func datasetChart(name string, rows []store.CollectionDay, from time.Time) datasetVolume {
	d := datasetVolume{Name: name}
	labels := make([]string, Days)
	for i := range labels {
		labels[i] = from.AddDate(0, 0, i).Format("2 Jan")
	}
	accepted := make([]float64, Days)
	dropped := map[string][]float64{}
	refused := map[string]int64{}
	for _, row := range rows {
		i := int(row.Day.Sub(from) / (24 * time.Hour))
		if i < 0 || i >= Days {
			continue
		}
		switch row.Outcome {
		case volume.Accepted:
			accepted[i] += float64(row.Count)
			d.Accepted += row.Count
		case volume.Dropped:
			if dropped[row.Reason] == nil {
				dropped[row.Reason] = make([]float64, Days)
			}
			dropped[row.Reason][i] += float64(row.Count)
			d.Dropped += row.Count
		case volume.Rejected:
			refused[row.Reason] += row.Count
			d.Refused += row.Count
		}
	}
	reasons := make([]string, 0, len(dropped))
	for reason := range dropped {
		reasons = append(reasons, reason)
	}
	slices.Sort(reasons)
	total := make([]float64, Days)
	for _, r := range reasons {
		for i, n := range dropped[r] {
			total[i] += n
		}
	}
	d.Events = chart.Figure{Title: "Events per day", Legend: []chart.Key{{Class: "s0", Label: "accepted"}, {Class: "s6", Label: "dropped"}},
		Head: []string{"Day", "accepted", "dropped"}, Note: "Events per day (UTC): accepted and stored, or dropped (answered 200, not stored).",
		SVG: chart.Bars{Title: "Events of " + name + " per day, accepted and dropped", Labels: labels, Every: 5, Unit: "events",
			Series: []chart.Series{{Name: "accepted", Class: "s0", Values: accepted}, {Name: "dropped", Class: "s6", Values: total}}}.SVG()}
	d.Drops = chart.Figure{Title: "Dropped events per day, by reason", Head: []string{"Day"},
		Note: "Opt out, Do Not Track and Global Privacy Control are the person's choice; erased: the person's data was erased and is not collected again; sampled: left out by the dataset's sample rate; duplicate: already stored."}
	drops := chart.Bars{Title: "Dropped events of " + name + " per day, by reason", Labels: labels, Every: 5, Unit: "events"}
	for i, reason := range reasons {
		class := fmt.Sprintf("s%d", 1+i%5)
		drops.Series = append(drops.Series, chart.Series{Name: words(reason), Class: class, Values: dropped[reason]})
		d.Drops.Legend = append(d.Drops.Legend, chart.Key{Class: class, Label: words(reason)})
		d.Drops.Head = append(d.Drops.Head, words(reason))
	}
	d.Drops.SVG = drops.SVG()
	for i, l := range labels {
		if accepted[i] > 0 || total[i] > 0 {
			d.Events.Rows = append(d.Events.Rows, []string{l, fmt.Sprint(accepted[i]), fmt.Sprint(total[i])})
		}
		if total[i] > 0 {
			row := []string{l}
			for _, reason := range reasons {
				row = append(row, fmt.Sprint(dropped[reason][i]))
			}
			d.Drops.Rows = append(d.Drops.Rows, row)
		}
	}
	for reason, n := range refused {
		d.Refusals = append(d.Refusals, refusal{words(reason), n})
	}
	slices.SortFunc(d.Refusals, func(a, b refusal) int {
		if a.N != b.N {
			return int(b.N - a.N)
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return d
}

// words turns a reason code into words: opt_out as "opt out".
func words(reason string) string {
	switch reason {
	case "dnt":
		return "Do Not Track"
	case "gpc":
		return "Global Privacy Control"
	case "":
		return "—"
	}
	return strings.ReplaceAll(reason, "_", " ")
}
