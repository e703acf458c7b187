package incident_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// BenchmarkCommunicate sends the Art. 34 communication for a blast radius
// of STEWARD_BENCH_REQUESTS people (default 20000), half of whom made a
// request with a confirmed address, among as many requests again of
// people not affected: matching, marking and enqueueing, once (run with
// -benchtime=1x; a second run would send nothing). It reports the time
// and mails/s, then the authority report drafted and rendered.
func BenchmarkCommunicate(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_REQUESTS")); err == nil && v > 0 {
		n = v
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			fx := openFixture(b, name)
			ctx := context.Background()
			keyer, _ := minimise.NewKeyer([]byte("a bench hashing key of 32 bytes!"))
			fx.svc.Keyer = keyer
			var keys []string
			err := fx.st.InTx(ctx, func(tx store.Tx) error {
				for i := range 2 * n {
					email := fmt.Sprintf("person%d@example.org", i)
					r := store.Request{ID: fmt.Sprintf("r-bench%08d", i), StatusTokenHash: []byte{1}, Channel: "web", Type: "access",
						Status: "done", Email: email, SubjectKey: keyer.Hash("dsr-subject", "email:"+email), Law: "gdpr",
						DueAt: t0, CreatedAt: t0, UpdatedAt: t0, StatusAt: t0, EmailConfirmedAt: t0, Version: 1}
					if err := tx.CreateRequest(ctx, r); err != nil {
						return err
					}
					if i%4 == 0 { // a quarter of the requests, half of the affected
						keys = append(keys, keyer.Hash("subject", email))
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for i := len(keys); i < n; i++ {
				keys = append(keys, fmt.Sprintf("k-nobody-%d", i))
			}
			inc, err := fx.svc.OpenByHand(ctx, imActor, incident.OpenInput{Title: "bench", Dataset: "interaction_data", LeakAt: t0.Add(-time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			assess(b, fx, inc.ID, blast(keys...), severity(true))
			if _, err := fx.svc.Describe(ctx, inc.ID, imActor, incident.DescribeInput{Consequences: ptr("c"), Measures: ptr("m")}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			res, err := fx.svc.CommunicateToSubjects(ctx, inc.ID, imActor, incident.CommunicateInput{})
			took := time.Since(start)
			if err != nil || res.Sent != n/2 {
				b.Fatalf("%+v %v", res, err)
			}
			b.ReportMetric(float64(took.Milliseconds()), "ms/communicate")
			b.ReportMetric(float64(res.Sent)/took.Seconds(), "mails/s")
			start = time.Now()
			rep, err := fx.svc.AuthorityReport(ctx, inc.ID)
			if err != nil {
				b.Fatal(err)
			}
			_ = rep.Markdown()
			if _, err := rep.HTML(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/report")
		})
	}
}
