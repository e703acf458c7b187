// Package chart draws the portal's charts as SVG on the server: stacked
// bars, optionally mirrored below the axis, with a marked limit. The SVG
// is inline in the page, coloured by steward.css (classes s0…s7, late,
// ontime), and needs no script: the page loads nothing from another host.
// Every bar has a <title>, which browsers show on hover, and each chart
// comes with its numbers as a table for those who would rather read.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Series is one stacked part of every bar.
type Series struct {
	Name string
	// Class colours it (steward.css): "s0"…"s7", "late", "ontime".
	Class string
	// Values has one number per bar, in the order of Bars.Labels.
	Values []float64
	// Below draws the series under the axis, pointing down (closed
	// requests under opened ones).
	Below bool
}

// Limit marks a value on the category axis with a dashed line, such as
// the statutory deadline on a chart by days.
type Limit struct {
	// At is a position on the category axis, in bars: 30 is the left edge
	// of the 31st bar.
	At    float64
	Label string
}

// Bars is a chart of stacked bars, one per label.
type Bars struct {
	// Title names the chart for screen readers.
	Title  string
	Labels []string
	// Every shows one category label in so many (0 picks one that fits).
	Every  int
	Series []Series
	Limit  *Limit
	// Unit names what the values count ("requests"), for the tooltips.
	Unit string
	// Above and Below name the two sides of a mirrored chart, written
	// along the value axis ("received", "closed").
	Above, Below string
}

const (
	width, height      = 800.0, 260.0
	left, right, top   = 48.0, 12.0, 12.0
	bottom             = 36.0
	plotW              = width - left - right
	maxLabelChars      = 10.0
	approxCharWidth    = 6.5
	ticks              = 4
	labelGap, barShare = 16.0, 0.78
)

// SVG draws the chart.
func (c Bars) SVG() template.HTML {
	n := len(c.Labels)
	var up, down float64
	for i := range n {
		var u, d float64
		for _, s := range c.Series {
			if i < len(s.Values) {
				if s.Below {
					d += s.Values[i]
				} else {
					u += s.Values[i]
				}
			}
		}
		up, down = math.Max(up, u), math.Max(down, d)
	}
	step := niceStep(math.Max(up, down) / ticks)
	up, down = roundUp(up, step), roundUp(down, step)
	if up == 0 && down == 0 {
		up = step
	}
	plotH := height - top - bottom
	scale := plotH / (up + down)
	zero := top + up*scale
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, width, height, html.EscapeString(c.Title))
	// Grid lines and value ticks, above and below the axis.
	for v := step; v <= up+step/2; v += step {
		c.gridLine(&b, zero-v*scale, v)
	}
	for v := step; v <= down+step/2; v += step {
		c.gridLine(&b, zero+v*scale, v)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">0</text>`, left-6, zero+4)
	if c.Above != "" {
		fmt.Fprintf(&b, `<text class="side" x="%g" y="%g">↑ %s</text>`, left+6, top+10, html.EscapeString(c.Above))
	}
	if c.Below != "" && down > 0 {
		fmt.Fprintf(&b, `<text class="side" x="%g" y="%g">↓ %s</text>`, left+6, height-bottom-4, html.EscapeString(c.Below))
	}
	slot := plotW / math.Max(float64(n), 1)
	barW := slot * barShare
	every := c.Every
	if every <= 0 {
		every = max(1, int(math.Ceil(maxLabelChars*approxCharWidth/slot)))
	}
	for i, label := range c.Labels {
		x := left + float64(i)*slot + (slot-barW)/2
		yUp, yDown := zero, zero
		for _, s := range c.Series {
			if i >= len(s.Values) || s.Values[i] <= 0 {
				continue
			}
			h := s.Values[i] * scale
			y := yUp - h
			if s.Below {
				y = yDown
				yDown += h
			} else {
				yUp = y
			}
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s %s</title></rect>`,
				html.EscapeString(s.Class), x, y, barW, h, html.EscapeString(label), html.EscapeString(s.Name), html.EscapeString(number(s.Values[i], c.Unit)))
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+barW/2, height-bottom+labelGap, html.EscapeString(label))
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, left, zero, width-right, zero)
	fmt.Fprintf(&b, `<line class="axis" x1="%g" y1="%g" x2="%g" y2="%g"/>`, left, top, left, height-bottom)
	if l := c.Limit; l != nil && n > 0 {
		x := left + math.Min(l.At, float64(n))*slot
		fmt.Fprintf(&b, `<line class="limit" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x, top, x, height-bottom)
		anchor, dx := "start", 4.0
		if x > width/2 {
			anchor, dx = "end", -4
		}
		fmt.Fprintf(&b, `<text class="limit" x="%.1f" y="%g" text-anchor="%s">%s</text>`, x+dx, top+12, anchor, html.EscapeString(l.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it was escaped above
}

func (c Bars) gridLine(b *strings.Builder, y, v float64) {
	fmt.Fprintf(b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, left, y, width-right, y)
	fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, left-6, y+4, html.EscapeString(short(v)))
}

// niceStep is a round step (1, 2 or 5 times a power of ten) near raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return math.Max(1, m*p)
		}
	}
	return 10 * p
}

func roundUp(v, step float64) float64 { return math.Ceil(v/step) * step }

// short writes a tick value: 1200 as 1.2k, 3 000 000 as 3M.
func short(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), ".0") + "M"
	case v >= 1e3:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e3), ".0") + "k"
	}
	return fmt.Sprintf("%g", v)
}

func number(v float64, unit string) string {
	s := fmt.Sprintf("%.0f", v)
	if unit != "" {
		s += " " + unit
	}
	return s
}

// Figure is a chart as a page shows it (the shell's "figure" template):
// a caption, a legend, the SVG, a sentence on how to read it and the
// numbers as a table.
type Figure struct {
	Title, Note string
	SVG         template.HTML
	Legend      []Key
	Head        []string
	Rows        [][]string
}

// Key is one legend entry: a series' class and its name.
type Key struct{ Class, Label string }
