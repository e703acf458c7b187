package portal

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/web/chart"
)

// Weeks is how far back the trends go.
const Weeks = 12

// maxDays is the last bar of the completion chart; slower requests join it.
const maxDays = 90

type trendsView struct {
	Flow, Completion chart.Figure
	Summary          string
}

// Trends handles GET /admin/requests/trends: requests opened and closed
// per week by channel, and how long completed requests took against the
// statutory deadline. Counts only: nothing about any one person.
func (p *Portal) Trends(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := p.Rights.Clock.Now().UTC()
	origin := monday(now).AddDate(0, 0, -7*(Weeks-1))
	flows, err := p.Rights.Store.RequestFlows(ctx, rights.ClosedStatuses(), origin, 7*24*time.Hour)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	comps, err := p.Rights.Store.RequestCompletions(ctx, string(rights.Done), origin)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	v := trendsView{}

	// Opened above the axis, closed below, a colour per channel.
	labels := make([]string, Weeks)
	for i := range labels {
		labels[i] = origin.AddDate(0, 0, 7*i).Format("2 Jan")
	}
	opened, closed := map[string][]float64{}, map[string][]float64{}
	for _, c := range channels {
		opened[c.Value], closed[c.Value] = make([]float64, Weeks), make([]float64, Weeks)
	}
	for _, f := range flows {
		i := int(f.Start.Sub(origin) / (7 * 24 * time.Hour))
		if i < 0 || i >= Weeks || opened[f.Channel] == nil {
			continue
		}
		opened[f.Channel][i] += float64(f.Opened)
		closed[f.Channel][i] += float64(f.Closed)
	}
	bars := chart.Bars{Title: "Requests opened (above the line) and closed (below) per week, by channel", Labels: labels, Unit: "requests",
		Above: "received", Below: "closed"}
	v.Flow = chart.Figure{Title: "Requests per week, by channel", Note: "Above the line: requests received. Below: requests closed (done or rejected). Weeks start on Monday.",
		Head: []string{"Week of"}}
	for i, c := range channels {
		class := fmt.Sprintf("s%d", i)
		bars.Series = append(bars.Series, chart.Series{Name: c.Label + " received", Class: class, Values: opened[c.Value]},
			chart.Series{Name: c.Label + " closed", Class: class, Values: closed[c.Value], Below: true})
		v.Flow.Legend = append(v.Flow.Legend, chart.Key{Class: class, Label: c.Label})
		v.Flow.Head = append(v.Flow.Head, c.Label+" received", c.Label+" closed")
	}
	for i, l := range labels {
		row := []string{l}
		for _, c := range channels {
			row = append(row, fmt.Sprint(opened[c.Value][i]), fmt.Sprint(closed[c.Value][i]))
		}
		v.Flow.Rows = append(v.Flow.Rows, row)
	}
	v.Flow.SVG = bars.SVG()

	// Days to completion, on time and late, against the default law's
	// deadline.
	cfg := p.Rights.Config
	law := cfg.Laws[cfg.DefaultLaw]
	deadline := int(law.Due(now).Sub(now).Hours() / 24)
	slowest := 0
	for _, c := range comps {
		slowest = max(slowest, c.Days)
	}
	// Room for the deadline and the slowest request, up to maxDays.
	n := min(max(deadline+deadline/2, slowest+3), maxDays) + 1
	onTime, late := make([]float64, n), make([]float64, n)
	var all []int
	lateCount := 0
	for _, c := range comps {
		d := min(max(c.Days, 0), n-1)
		if c.Late {
			late[d] += float64(c.Count)
			lateCount += c.Count
		} else {
			onTime[d] += float64(c.Count)
		}
		for range c.Count {
			all = append(all, c.Days)
		}
	}
	days := make([]string, n)
	for i := range days {
		days[i] = fmt.Sprint(i)
	}
	if slowest >= n-1 {
		days[n-1] = fmt.Sprintf("%d+", n-1)
	}
	v.Completion = chart.Figure{Title: "Days from receipt to completion", Head: []string{"Days", "On time", "After the deadline"},
		Legend: []chart.Key{{Class: "ontime", Label: "Done by its deadline"}, {Class: "late", Label: "Done after its deadline"}},
		Note: fmt.Sprintf("Erasure and access requests completed in the last %d weeks, by whole days taken. The dashed line is the %s deadline (%s, about %d days); a request's own deadline counts any extension.",
			Weeks, strings.ToUpper(cfg.DefaultLaw), law.Words(), deadline),
		SVG: chart.Bars{Title: "Completed requests by days taken, against the statutory deadline", Labels: days, Every: 10, Unit: "requests",
			Series: []chart.Series{{Name: "done on time", Class: "ontime", Values: onTime}, {Name: "done late", Class: "late", Values: late}},
			Limit:  &chart.Limit{At: float64(deadline), Label: strings.ToUpper(cfg.DefaultLaw) + " deadline: " + law.Words()}}.SVG()}
	for i := range n {
		if onTime[i] > 0 || late[i] > 0 {
			v.Completion.Rows = append(v.Completion.Rows, []string{days[i], fmt.Sprint(onTime[i]), fmt.Sprint(late[i])})
		}
	}
	if len(all) > 0 {
		sort.Ints(all)
		v.Summary = fmt.Sprintf("%d completed in the last %d weeks; half within %d days; %d after their deadline.", len(all), Weeks, all[(len(all)-1)/2], lateCount)
	} else {
		v.Summary = fmt.Sprintf("No request was completed in the last %d weeks.", Weeks)
	}
	p.renderPage(w, r, http.StatusOK, "trends", "Request trends", v)
}

// monday is the start (00:00 UTC) of t's ISO week.
func monday(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
