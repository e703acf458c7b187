package incident_test

import (
	"testing"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

func TestPreScoreFromCategoriesKindsAndSource(t *testing.T) {
	cases := []struct {
		name       string
		source     string
		categories []int
		kinds      []string
		noBlast    bool
		dpc, ei    float64
		conf, intg float64
		score      float64
		level      string
		art33      bool
		art34      bool
	}{
		{name: "technical, pseudonymous, by hand", source: incident.SourceManual, categories: []int{1}, kinds: []string{"pseudonymous"},
			dpc: 1, ei: 0.5, score: 0.5, level: incident.Low},
		{name: "interaction outside policy", source: incident.SourcePolicy, categories: []int{1, 2}, kinds: []string{"pseudonymous"},
			dpc: 2, ei: 0.5, conf: 0.25, score: 1.25, level: incident.Low},
		{name: "web activity unusual", source: incident.SourceUnusual, categories: []int{3, 1}, kinds: []string{"pseudonymous"},
			dpc: 3, ei: 0.5, conf: 0.25, score: 1.75, level: incident.Low},
		{name: "highly sensitive pseudonymous by hand: exactly 2", source: incident.SourceManual, categories: []int{4}, kinds: []string{"pseudonymous"},
			dpc: 4, ei: 0.5, score: 2, level: incident.Medium, art33: true},
		{name: "interaction direct by hand", source: incident.SourceManual, categories: []int{2}, kinds: []string{"direct"},
			dpc: 2, ei: 1, score: 2, level: incident.Medium, art33: true},
		{name: "web activity direct by hand: exactly 3", source: incident.SourceManual, categories: []int{3}, kinds: []string{"pseudonymous", "direct"},
			dpc: 3, ei: 1, score: 3, level: incident.High, art33: true, art34: true},
		{name: "web activity direct outside policy", source: incident.SourcePolicy, categories: []int{3}, kinds: []string{"direct"},
			dpc: 3, ei: 1, conf: 0.25, score: 3.25, level: incident.High, art33: true, art34: true},
		{name: "highly sensitive direct by hand: exactly 4", source: incident.SourceManual, categories: []int{2, 4}, kinds: []string{"direct"},
			dpc: 4, ei: 1, score: 4, level: incident.VeryHigh, art33: true, art34: true},
		{name: "chain broken, nothing known", source: incident.SourceIntegrity, noBlast: true,
			dpc: 4, ei: 0.5, conf: 0.25, intg: 0.5, score: 2.75, level: incident.Medium, art33: true},
		{name: "blast without categories or kinds", source: incident.SourcePolicy,
			dpc: 4, ei: 0.5, conf: 0.25, score: 2.25, level: incident.Medium, art33: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inc := store.Incident{Source: c.source}
			b := incident.BlastRadius{Categories: c.categories, SubjectKinds: c.kinds}
			s := incident.PreScore(inc, b, !c.noBlast)
			if s.DPC.Value != c.dpc || s.DPC.Pre != c.dpc || s.EI.Value != c.ei || s.CB.Confidentiality.Value != c.conf ||
				s.CB.Integrity.Value != c.intg || s.CB.Availability.Value != 0 || s.CB.Malicious.Value != 0 {
				t.Fatalf("factors: %+v", s)
			}
			if s.Score != c.score || s.Level != c.level || s.Proposed != (incident.Applicability{Art33: c.art33, Art34: c.art34}) {
				t.Fatalf("score %v level %s proposed %+v; want %v %s", s.Score, s.Level, s.Proposed, c.score, c.level)
			}
			for _, f := range []incident.Factor{s.DPC, s.EI, s.CB.Confidentiality, s.CB.Integrity, s.CB.Availability, s.CB.Malicious} {
				if f.PreWhy == "" || f.Adjusted {
					t.Fatalf("every pre-score says why and none is adjusted: %+v", f)
				}
			}
			if s.Decided != nil {
				t.Fatal("a pre-score decides nothing")
			}
		})
	}
}

func TestNotKnownIsSaid(t *testing.T) {
	s := incident.PreScore(store.Incident{Source: incident.SourceManual}, incident.BlastRadius{}, false)
	for _, why := range []string{s.DPC.PreWhy, s.EI.PreWhy} {
		if len(why) < 9 || why[:9] != "not known" {
			t.Fatalf("an unknown factor says so: %q", why)
		}
	}
}

func TestLevelBoundaries(t *testing.T) {
	for score, want := range map[float64]string{0: incident.Low, 1.75: incident.Low, 1.9999: incident.Low, 2: incident.Medium, 2.75: incident.Medium,
		3: incident.High, 3.75: incident.High, 4: incident.VeryHigh, 4.5: incident.VeryHigh, 6: incident.VeryHigh} {
		if got := incident.LevelOf(score); got != want {
			t.Errorf("LevelOf(%v) = %s, want %s", score, got, want)
		}
	}
	// The largest score on the scales: 4 × 1 + 0.5 + 0.5 + 0.5 + 0.5.
	s := incident.PreScore(store.Incident{}, incident.BlastRadius{Categories: []int{4}, SubjectKinds: []string{"direct"}}, true)
	s.CB.Confidentiality.Value, s.CB.Integrity.Value, s.CB.Availability.Value, s.CB.Malicious.Value = 0.5, 0.5, 0.5, 0.5
	s.Rescore()
	if s.CB.Total != 2 || s.Score != 6 || s.Level != incident.VeryHigh {
		t.Fatalf("rescore: %+v", s)
	}
}

func TestRepriceKeepsAdjustmentsAndFollowsFacts(t *testing.T) {
	inc := store.Incident{Source: incident.SourcePolicy}
	s := incident.PreScore(inc, incident.BlastRadius{Categories: []int{1}, SubjectKinds: []string{"pseudonymous"}}, true)
	s.EI.Value, s.EI.Adjusted, s.EI.Reason, s.EI.AdjustedBy = 0.25, true, "client ids rotate daily", "im"
	s.Rescore()
	if s.Score != 0.5 { // 1 × 0.25 + 0.25
		t.Fatalf("before: %v", s.Score)
	}
	s.Decided = &incident.Applicability{}
	s.Reasoning = "technical data only"
	// The window grows and reaches a highly sensitive field of a direct dataset.
	r := incident.Reprice(s, inc, incident.BlastRadius{Categories: []int{1, 4}, SubjectKinds: []string{"pseudonymous", "direct"}}, true)
	if r.DPC.Value != 4 || r.DPC.Pre != 4 || r.EI.Pre != 1 || r.EI.Value != 0.25 || !r.EI.Adjusted || r.EI.Reason != "client ids rotate daily" {
		t.Fatalf("reprice: %+v", r)
	}
	if r.Score != 1.25 || r.Level != incident.Low || r.Decided == nil || r.Reasoning != "technical data only" {
		t.Fatalf("reprice score/decision: %+v", r)
	}
}
