package server

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
)

// BenchmarkReviewPublishReachesSecondNode approves a proposal that adds a
// dataset of 500 fields on node a and reports how long node b, sharing
// the PostgreSQL database and polling every --registry-poll (2 s), takes
// to collect under it (ms-to-b). Target: < 2 s.
func BenchmarkReviewPublishReachesSecondNode(b *testing.B) {
	dsn := pgSchema(b)
	a := startNode(b, testConfig(b, dsn))
	other := startNode(b, testConfig(b, dsn))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go other.srv.Registry.Watch(ctx, registry.DefaultPollEvery)
	dev := review.Actor{ID: "dev@example.org", Role: auth.Analyst}
	steward := review.Actor{ID: "steward@example.org", Role: auth.DataSteward}
	legal := review.Actor{ID: "legal@example.org", Role: auth.LegalReviewer}
	checklist := map[string]string{}
	for _, c := range review.Checklist {
		checklist[c.Key] = "yes"
	}
	text := registry.DefaultYAML
	var total time.Duration
	i := 0
	for b.Loop() {
		i++
		name := fmt.Sprintf("wide%d", i)
		var buf bytes.Buffer
		buf.Write(text)
		fmt.Fprintf(&buf, "  %s:\n    description: Wide.\n    purpose: product_improvement\n    lawful_basis: legitimate_interest\n    retention: 30d\n    owner: kpi-team@example.org\n    expires: never\n    fields:\n", name)
		for f := range 500 {
			fmt.Fprintf(&buf, "      f%03d: {type: integer, min: 0, max: 1000, category: %d, description: Measurement %d.}\n", f, 1+f%2, f)
		}
		text = buf.Bytes()
		p, err := a.srv.Reviews.Propose(ctx, dev, review.Input{YAML: text, Answers: reviewAnswers}, true)
		if err != nil {
			b.Fatal(err)
		}
		for _, who := range []review.Actor{steward, legal} {
			if p, err = a.srv.Reviews.SignOff(ctx, who, p.ID, review.SignOffInput{Revision: p.Revision, Decision: review.DecisionApprove, Checklist: checklist}); err != nil {
				b.Fatal(err)
			}
		}
		published := time.Now()
		if p.State != "approved" {
			b.Fatalf("proposal %d is %s", p.ID, p.State)
		}
		for other.srv.Registry.Current().Dataset(name) == nil {
			if time.Since(published) > 10*time.Second {
				b.Fatal("node b never saw the version")
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(published)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-b")
}
