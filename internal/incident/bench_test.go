package incident_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// BenchmarkMonitorReplay checks a log of STEWARD_BENCH_ENTRIES entries
// (default 100000; 1000000 for the figure) from the start, on
// each backend, and reports entries/s. One in a thousand is outside
// policy, so incidents open and join as they would.
func BenchmarkMonitorReplay(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			func(fx *fixture) {
				ctx := context.Background()
				batch := make([]*store.AccessEntry, 0, 500)
				for i := range n {
					purpose := "product_improvement"
					if i%1000 == 999 {
						purpose = "marketing"
					}
					batch = append(batch, &store.AccessEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: "token dash", AuthMethod: "external",
						CredentialID: fmt.Sprintf("c%d", i%50), Role: "analyst", Purpose: purpose, Dataset: "interaction_data", Records: 3,
						SubjectKeys: []string{fmt.Sprintf("a%d", i%9973), fmt.Sprintf("b%d", i%7919)}, Decision: accesslog.Allowed})
					if len(batch) == cap(batch) || i == n-1 {
						if err := fx.st.AppendAccess(ctx, batch, func(e *store.AccessEntry, p []byte) { accesslog.Seal(e, p) }); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
				fx.clk.Set(t0.Add(time.Duration(n) * time.Second))
				// One replay of the whole log: the position is durable, so
				// a second would find nothing to do (run with -benchtime=1x).
				fx.mon.Batch, fx.mon.Lease = 1000, 1000*time.Hour
				b.ResetTimer()
				start := time.Now()
				checked, err := fx.mon.CatchUp(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(checked)/time.Since(start).Seconds(), "entries/s")
			}(openFixture(b, name))
		})
	}
}
