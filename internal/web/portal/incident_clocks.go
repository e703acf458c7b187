package portal

import (
	"fmt"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
)

// clockRow is one obligation's clock as the pages show it. Pages carry no
// script (internal/web/ui), so the time left is computed when the page is
// drawn and says so; reloading the page counts on.
type clockRow struct {
	Name, Label string
	// Status is the clock in words: "71h 59m left", "late by 2h 05m",
	// "met …", "not started …", "moot …".
	Status string
	// Class is the tag's style: overdue (late), due-soon (under a day
	// left), "" (running), met, or muted (not started, moot).
	Class      string
	Start, Due time.Time
	Met        time.Time
	MaxNP      string
}

// dueSoonClock marks a running clock with less than this left.
const dueSoonClock = 24 * time.Hour

// obligationLabel names an obligation for a person.
func obligationLabel(name string) string {
	switch name {
	case "authority":
		return "Supervisory authority (Art. 33)"
	case "subjects":
		return "Affected people (Art. 34)"
	case "controller":
		return "Controller (contract)"
	}
	return name
}

var startLabel = map[string]string{
	incident.FromAware:    "awareness",
	incident.FromLeak:     "the first offending access (t_l)",
	incident.FromHighRisk: "the high-risk decision",
}

func clockRows(cs []incident.Clock) []clockRow {
	out := make([]clockRow, 0, len(cs))
	for _, c := range cs {
		row := clockRow{Name: c.Obligation.Name, Label: obligationLabel(c.Obligation.Name), Start: c.Start, Due: c.Due, Met: c.Met,
			MaxNP: fmt.Sprintf("%s from %s", period(c.Obligation.MaxNP), startLabel[c.Obligation.Start])}
		switch {
		case c.Start.IsZero() && c.Moot:
			row.Status, row.Class = "moot: ended without the duty arising", "muted"
		case c.Start.IsZero():
			row.Status, row.Class = "not started: runs from "+startLabel[c.Obligation.Start], "muted"
		case !c.Met.IsZero() && c.Late:
			row.Status, row.Class = "met late, by "+span(c.Met.Sub(c.Due)), "overdue"
		case !c.Met.IsZero():
			row.Status, row.Class = "met, "+span(c.Due.Sub(c.Met))+" before the deadline", "met"
		case c.Moot:
			row.Status, row.Class = "moot: ended without the duty arising", "muted"
		case c.Late:
			row.Status, row.Class = "late by "+span(-c.Left), "overdue"
		case c.Left < dueSoonClock:
			row.Status, row.Class = span(c.Left)+" left", "due-soon"
		default:
			row.Status = span(c.Left) + " left"
		}
		out = append(out, row)
	}
	return out
}

// span is a duration as a person reads a deadline: "3d 04h", "71h 59m"
// below four days, "12m 30s" below an hour.
func span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Second)
	switch {
	case d >= 96*time.Hour:
		return fmt.Sprintf("%dd %02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// period is an obligation's max_np as a rule reads: "72 hours", "1 hour",
// "90 minutes".
func period(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
