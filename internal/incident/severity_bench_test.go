package incident_test

import (
	"context"
	"testing"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
)

// BenchmarkPreScore is the pure pre-score the API computes on every read
// of an incident that has no stored assessment.
func BenchmarkPreScore(b *testing.B) {
	inc := store.Incident{Source: incident.SourcePolicy}
	br := incident.BlastRadius{Categories: []int{1, 2, 3}, SubjectKinds: []string{"pseudonymous", "direct"}}
	for b.Loop() {
		_ = incident.PreScore(inc, br, true)
	}
}

// BenchmarkAssess stores one adjusted assessment per iteration (severity,
// history line and access-log entry in one transaction), per backend.
func BenchmarkAssess(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			fx := openFixture(b, name)
			inc := blasted(b, fx, incident.SourcePolicy, incident.BlastRadius{Categories: []int{2}, SubjectKinds: []string{"direct"}})
			ctx := context.Background()
			for b.Loop() {
				if _, err := fx.svc.Assess(ctx, inc.ID, manager, incident.AssessInput{
					DPC: &incident.Adjustment{Value: v(3), Reason: "a year of history"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
