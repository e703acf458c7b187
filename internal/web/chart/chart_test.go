package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// elements parses svg as XML and counts its elements by name.
func elements(t *testing.T, svg string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	out := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if s, ok := tok.(xml.StartElement); ok {
			out[s.Name.Local]++
		}
	}
}

func TestBarsDrawsEachNonZeroPart(t *testing.T) {
	svg := string(Bars{Title: `opened & closed <per week>`, Labels: []string{"1 Nov", "8 Nov", "15 Nov"}, Unit: "requests",
		Series: []Series{
			{Name: "web", Class: "s0", Values: []float64{3, 0, 5}},
			{Name: "app", Class: "s1", Values: []float64{1, 2, 0}},
			{Name: "closed", Class: "s0", Values: []float64{2, 2, 2}, Below: true},
		},
		Limit: &Limit{At: 2, Label: "deadline"}, Above: "received", Below: "closed"}.SVG())
	el := elements(t, svg)
	if el["svg"] != 1 || el["rect"] != 7 || el["title"] != 7 {
		t.Fatalf("elements %v:\n%s", el, svg)
	}
	for _, want := range []string{`aria-label="opened &amp; closed &lt;per week&gt;"`, `<title>8 Nov: app 2 requests</title>`,
		`class="limit"`, ">deadline<", "↑ received", "↓ closed", ">1 Nov<", ">0<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "style=") || strings.Contains(svg, "<script") {
		t.Error("the chart carries style or script")
	}
}

func TestBarsWithNothingToDraw(t *testing.T) {
	for _, c := range []Bars{{}, {Labels: []string{"a", "b"}}, {Labels: []string{"a"}, Series: []Series{{Name: "x", Values: []float64{0}}}}} {
		svg := string(c.SVG())
		if el := elements(t, svg); el["rect"] != 0 || strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%+v: %s", c, svg)
		}
	}
}

func TestNiceSteps(t *testing.T) {
	for raw, want := range map[float64]float64{0: 1, 0.3: 1, 3: 5, 7: 10, 12: 20, 260: 500, 1800: 2000} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%g) = %g, want %g", raw, got, want)
		}
	}
	if short(1500) != "1.5k" || short(2e6) != "2M" || short(40) != "40" {
		t.Error(short(1500), short(2e6), short(40))
	}
}
