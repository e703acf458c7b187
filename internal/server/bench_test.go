package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkCollectBatch100 measures the whole pipeline in-process for a
// batch of 100 seed events (see cmd/steward-bench for the loopback numbers).
func BenchmarkCollectBatch100(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
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
