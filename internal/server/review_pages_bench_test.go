package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
)

// withSurvey is the built-in registry with a new dataset of fields fields,
// the last one category 3.
func withSurvey(fields int) string {
	var sb strings.Builder
	sb.WriteString(string(registry.DefaultYAML))
	sb.WriteString(`  survey:
    description: Answers to the in-product survey.
    purpose: product_improvement
    lawful_basis: legitimate_interest
    retention: 30d
    owner: kpi-team@example.org
    expires: 2027-12-31
    fields:
`)
	for i := range fields {
		cat := 2
		if i == fields-1 {
			cat = 3
		}
		fmt.Fprintf(&sb, "      answer_%03d: {type: integer, min: 0, max: 10, category: %d, description: Answer to question %d.}\n", i, cat, i)
	}
	return sb.String()
}

// BenchmarkReviewPage500 serves the page of a proposal that adds a dataset
// of 500 fields, as a reviewer opens it: the view (diff, matrix), the
// request document and the whole page rendered, over loopback HTTP.
func BenchmarkReviewPage500(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
	ctx := context.Background()
	if _, err := n.srv.Reviews.Propose(ctx, review.Actor{ID: "analyst@staff.example.org", Role: auth.Analyst},
		review.Input{YAML: []byte(withSurvey(500)), Answers: reviewAnswers}, true); err != nil {
		b.Fatal(err)
	}
	privacy := signIn(b, n, auth.PrivacyReviewer)
	b.ResetTimer()
	for b.Loop() {
		if st, body, _ := privacy.get("/admin/reviews/1"); st != 200 || !strings.Contains(body, "answer_499") {
			b.Fatalf("%d", st)
		}
	}
}

// BenchmarkReviewListWaiting lists "waiting on me" among 50 proposals in
// review that all need the reviewer's role: each needs its view to tell
// whether an approval still counts.
func BenchmarkReviewListWaiting(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
	ctx := context.Background()
	a := review.Actor{ID: "analyst@staff.example.org", Role: auth.Analyst}
	for i := range 50 {
		y := strings.Replace(withWebActivity(b), "max_length: 253", fmt.Sprintf("max_length: %d", 100+i), 1)
		if _, err := n.srv.Reviews.Propose(ctx, a, review.Input{YAML: []byte(y), Answers: reviewAnswers}, true); err != nil {
			b.Fatal(err)
		}
	}
	privacy := signIn(b, n, auth.PrivacyReviewer)
	b.ResetTimer()
	for b.Loop() {
		if st, body, _ := privacy.get("/admin/reviews?waiting=1"); st != 200 || strings.Count(body, "waiting on you") != 25 {
			b.Fatalf("%d, %d rows", st, strings.Count(body, "waiting on you"))
		}
	}
}
