package review_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// wideDataset is the built-in registry with a new dataset of n fields of
// mixed categories.
func wideDataset(n int) []byte {
	var b bytes.Buffer
	b.Write(registry.DefaultYAML)
	b.WriteString(`  wide:
    description: A wide dataset for the benchmark.
    purpose: product_improvement
    lawful_basis: legitimate_interest
    retention: 30d
    owner: kpi-team@example.org
    expires: never
    fields:
`)
	for i := range n {
		fmt.Fprintf(&b, "      f%03d: {type: integer, min: 0, max: 1000, category: %d, description: Measurement %d.}\n", i, 1+i%3, i)
	}
	return b.Bytes()
}

// BenchmarkDocument500 renders the review request document of a proposal
// adding 500 fields, from the stored proposal (the diff, requirements and
// matrix included), as GET /v1/reviews/{id}/request.md does. Target: < 100 ms.
func BenchmarkDocument500(b *testing.B) {
	ctx := context.Background()
	st, err := backends.Open(ctx, "", b.TempDir(), true)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	src := registry.NewSource(st, clock.Real{}.Now, nil)
	if _, _, err := src.Publish(ctx, registry.DefaultYAML, "built-in", registry.Approval{By: "built-in example"}); err != nil {
		b.Fatal(err)
	}
	svc := &review.Service{Store: st, Registry: src, Clock: clock.Real{}}
	p, err := svc.Propose(ctx, dev, review.Input{YAML: wideDataset(500), Name: "wide.yaml"}, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		v, err := svc.Get(ctx, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		md, err := svc.Document(v).Markdown()
		if err != nil || len(md) < 500*50 {
			b.Fatal(len(md), err)
		}
	}
}
