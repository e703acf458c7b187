package server

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/store/postgres/pgtest"
	"github.com/steward-privacy/steward/internal/store/storetest"
)

// withErased puts 1000 subjects on the node's suppression list, none of
// them the benchmark's, so each event pays the check as it would in
// production.
func withErased(b *testing.B, n *node) {
	ctx := context.Background()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = n.srv.Keyer.Hash("subject", fmt.Sprint("erased-", i))
	}
	if err := n.srv.Store.AddErasedSubjects(ctx, "bench", keys, n.clock.Now()); err != nil {
		b.Fatal(err)
	}
	if _, err := n.srv.Erased.Refresh(ctx); err != nil || n.srv.Erased.Len() != len(keys) {
		b.Fatal(n.srv.Erased.Len(), err)
	}
}

// BenchmarkCollectBatch100 measures the whole pipeline in-process for a
// batch of 100 seed events (see cmd/steward-bench for the loopback numbers).
func BenchmarkCollectBatch100(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
	withErased(b, n)
	br := newBrowser(b, n.http.URL)
	b.ResetTimer()
	for b.Loop() {
		var sb strings.Builder
		sb.WriteString(`{"events":[`)
		for i := range 100 {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"event_id":%q,"language":"en_US","number_emails":3,"screen_size":{"width":640,"height":480},"event_stream":[["picker",732],["picker::change",1700]],"client_id":%q}`, uuid.NewString(), uuid.NewString())
		}
		sb.WriteString("]}")
		resp, body := br.post("/v1/collect/interaction_data", sb.String(), nil)
		if resp.StatusCode != 200 {
			b.Fatalf("%d %v", resp.StatusCode, body)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRequestIntake submits the public request form (erasure, a new
// address each time) from 16 concurrent browsers over loopback HTTP: the
// cross-origin check, validation, one transaction with the request, its history entry
// and the confirmation e-mail in the outbox.
func BenchmarkRequestIntake(b *testing.B) {
	for name, dsn := range map[string]string{"sqlite": "", "postgres": os.Getenv("STEWARD_TEST_POSTGRES")} {
		b.Run(name, func(b *testing.B) {
			if name == "postgres" {
				if dsn == "" {
					b.Skip("set STEWARD_TEST_POSTGRES")
				}
				dsn = pgSchema(b)
			}
			n := startNode(b, testConfig(b, dsn))
			var browsers []*browser
			for range 16 {
				browsers = append(browsers, newBrowser(b, n.http.URL))
			}
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := (b.N + 15) / 16
			for _, br := range browsers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						form := url.Values{"email": {fmt.Sprintf("person%d@example.org", next.Add(1))},
							"type": {"erasure"}, "acknowledge": {"yes"}}
						resp, err := br.c.PostForm(n.http.URL+"/privacy/requests", form)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(per*16)/time.Since(start).Seconds(), "requests/s")
		})
	}
}

// BenchmarkCollectSingle posts single events from 32 concurrent clients
// in-process, for profiling the per-request path (cmd/steward-bench gives
// the loopback numbers of record).
func BenchmarkCollectSingle(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
	withErased(b, n)
	br := newBrowser(b, n.http.URL)
	b.SetParallelism(16) // ×GOMAXPROCS(2) = 32 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ev := fmt.Sprintf(`{"event_id":%q,"language":"en_US","number_emails":3,"screen_size":{"width":640,"height":480},"event_stream":[["picker",732],["picker::change",1700]],"client_id":%q}`, uuid.NewString(), uuid.NewString())
			resp, body := br.post("/v1/collect/interaction_data", ev, nil)
			if resp.StatusCode != 200 {
				b.Fatalf("%d %v", resp.StatusCode, body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPortalList opens pages of the portal's request list with
// 100 000 requests stored, as a signed-in support agent over loopback
// HTTP: the counts, the page and its total, the access-log entry of the
// 25 people shown, and the rendering. The target is under 200 ms a page.
// The trends page (counts only) is measured too. On PostgreSQL the table
// is vacuumed after the load, as autovacuum does within a minute of it.
func BenchmarkPortalList(b *testing.B) {
	for name, dsn := range map[string]string{"sqlite": "", "postgres": os.Getenv("STEWARD_TEST_POSTGRES")} {
		b.Run(name, func(b *testing.B) {
			if name == "postgres" {
				if dsn == "" {
					b.Skip("set STEWARD_TEST_POSTGRES")
				}
				dsn = pgtest.Schema(b)
			}
			n := startNode(b, testConfig(b, dsn))
			storetest.FillRequests(b, n.srv.Store, 100_000, n.clock.Now())
			if dsn != "" {
				conn, err := pgx.Connect(context.Background(), dsn)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := conn.Exec(context.Background(), "VACUUM ANALYZE requests"); err != nil {
					b.Fatal(err)
				}
				conn.Close(context.Background())
			}
			tab := signIn(b, n, auth.Support)
			for _, path := range []string{"/admin/requests", "/admin/requests?page=2000", "/admin/requests?page=4000",
				"/admin/requests?status=in_progress&page=333", "/admin/requests?due=overdue", "/admin/requests?q=person4242",
				"/admin/requests/trends"} {
				b.Run(strings.TrimPrefix(path, "/admin/requests"), func(b *testing.B) {
					for b.Loop() {
						if st, body, _ := tab.get(path); st != 200 || !strings.Contains(body, "</html>") {
							b.Fatalf("%s: %d", path, st)
						}
					}
				})
			}
		})
	}
}
