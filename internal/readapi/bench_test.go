package readapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/readapi"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// unlogged stands in for the access log only to measure what logging
// costs; steward itself never serves a read without the real one.
type unlogged struct{}

func (unlogged) Append(context.Context, *accesslog.Entry) error { return nil }

// BenchmarkReadPage reads pages of 100 events over loopback HTTP, from one
// reader (latency) and from 32 concurrent readers (throughput), with and
// without the access log, in one run; then again with erased subjects on
// the suppression list, which every read leaves out.
func BenchmarkReadPage(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	dsns := map[string]string{"sqlite": ""}
	if pg := os.Getenv("STEWARD_TEST_POSTGRES"); pg != "" {
		dsns["postgres"] = pg
	}
	for name, dsn := range dsns {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := backends.Open(ctx, dsn, b.TempDir(), true)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			// A dataset name of its own, so runs against a shared
			// PostgreSQL do not read each other's events.
			day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
			evs := make([]store.Event, 1000)
			for i := range evs {
				evs[i] = store.Event{Dataset: "interaction_data", ReceivedAt: day.Add(time.Duration(i) * time.Second),
					SubjectKey: fmt.Sprintf("%064x", i%50), Data: []byte(`{"language":"en_US","number_emails":3,"new_account":false}`)}
			}
			if _, err := st.InsertEvents(ctx, evs); err != nil {
				b.Fatal(err)
			}
			reg, _ := registry.Default()
			pol, _ := policy.Default(reg)
			keyer, _ := minimise.NewKeyer(make([]byte, 32))
			secret, _, err := auth.NewToken(ctx, st, "bench", auth.DataSteward, 0, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.DiscardHandler)
			appender := accesslog.NewAppender(st, log)
			defer appender.Close()
			// Then again with 1000 subjects waiting for their purge on the
			// suppression list, one of them in the range (20 events hidden).
			for _, erased := range []int{0, 1000} {
				prefix := ""
				if erased > 0 {
					prefix = fmt.Sprintf("erased=%d/", erased)
					keys := []string{fmt.Sprintf("%064x", 7)}
					for i := range erased - 1 {
						keys = append(keys, fmt.Sprintf("%064x", 1000+i))
					}
					if err := st.AddErasedSubjects(ctx, "bench", keys, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
				for _, readers := range []int{1, 32} {
					for _, mode := range []struct {
						name string
						rec  accesslog.Recorder
					}{{"unlogged", unlogged{}}, {"logged", appender}} {
						b.Run(fmt.Sprintf("%sreaders=%d/%s", prefix, readers, mode.name), func(b *testing.B) {
							api := &readapi.API{Registry: registry.Static(reg), Store: st, Policy: policy.StaticSource(pol), Keyer: keyer, Access: mode.rec, Clock: clock.Real{}, Log: log}
							mux := http.NewServeMux()
							mux.Handle("GET /v1/datasets/{name}/events", auth.Tokens{Store: st, Clock: clock.Real{}, Log: log}.Require(http.HandlerFunc(api.Events)))
							srv := httptest.NewServer(mux)
							defer srv.Close()
							url := srv.URL + "/v1/datasets/interaction_data/events?from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z&limit=100&purpose=data_quality"
							client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
							var mu sync.Mutex
							var lat []time.Duration
							// read is one request; it returns false after a failure.
							read := func(mine *[]time.Duration) bool {
								t0 := time.Now()
								req, _ := http.NewRequest("GET", url, nil)
								req.Header.Set("Authorization", "Bearer "+secret)
								resp, err := client.Do(req)
								if err != nil {
									b.Error(err)
									return false
								}
								io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
								if resp.StatusCode != 200 {
									b.Errorf("status %d", resp.StatusCode)
									return false
								}
								*mine = append(*mine, time.Since(t0))
								return true
							}
							b.ResetTimer()
							start := time.Now()
							if readers == 1 {
								for i := 0; i < b.N && read(&lat); i++ {
								}
							} else {
								b.SetParallelism(max(1, readers/procs))
								b.RunParallel(func(pb *testing.PB) {
									var mine []time.Duration
									defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
									for pb.Next() && read(&mine) {
									}
								})
							}
							b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
							slices.Sort(lat)
							if len(lat) > 0 {
								b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
								b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
							}
						})
					}
				}
			}
		})
	}
}
