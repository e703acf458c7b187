package pgaudit_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkTailer reads STEWARD_BENCH_RECORDS (default 100 000) pgaudit
// records, half of them of a mapped table, into the access log; it
// reports records and entries per second. Run with -benchtime=1x.
func BenchmarkTailer(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				fx := openFixture(b, backend)
				dir := b.TempDir()
				var sb strings.Builder
				for i := range n {
					table := "public.events"
					if i%2 == 1 {
						table = "public.other"
					}
					sb.WriteString(line("app_reader", table, "s"+strconv.Itoa(i/1000), i))
				}
				if err := os.WriteFile(filepath.Join(dir, "postgresql.csv"), []byte(sb.String()), 0o600); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := fx.tailer(dir).CatchUp(context.Background()); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start).Seconds()
				b.ReportMetric(float64(n)/el, "records/s")
				b.ReportMetric(float64(n/2)/el, "entries/s")
			}
		})
	}
}
