package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/registry"
)

// BenchmarkGleanBaselinePing submits baseline-sized pings (40 metrics)
// from 32 clients over loopback and reports pings/s and the p99 latency.
func BenchmarkGleanBaselinePing(b *testing.B) {
	var m strings.Builder
	m.WriteString("$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0\nbaseline:\n")
	var metrics []string
	for i := range 40 {
		typ := []string{"counter", "string", "boolean", "quantity\n    unit: x"}[i%4]
		fmt.Fprintf(&m, "  m%d:\n    type: %s\n    description: x\n    data_sensitivity: [technical]\n    send_in_pings: [baseline]\n    expires: never\n    bugs: [https://bugs.example/1]\n    data_reviews: [https://r.example/1]\n    notification_emails: [a@example.org]\n", i, typ)
		v := map[int]string{0: "5", 1: `"abc"`, 2: "true", 3: "17"}[i%4]
		metrics = append(metrics, fmt.Sprintf(`"%s": {"baseline.m%d": %s}`, strings.Fields(typ)[0], i, v))
	}
	res, err := glean.Import([]glean.File{{Name: "m.yaml", Data: []byte(m.String())}}, glean.Options{AppID: "bench", Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	y, err := glean.Proposal(registry.DefaultYAML, res, "bench", testNow)
	if err != nil {
		b.Fatal(err)
	}
	cfg := testConfig(b, "")
	cfg.Registry = filepath.Join(b.TempDir(), "r.yaml")
	os.WriteFile(cfg.Registry, y, 0o600)
	n := startNode(b, cfg)
	// One ping per metric type group, as Glean groups them.
	groups := map[string][]string{}
	for _, s := range metrics {
		typ := s[1 : strings.Index(s[1:], `"`)+1]
		groups[typ] = append(groups[typ], strings.TrimSuffix(s[strings.Index(s, "{")+1:], "}"))
	}
	var parts []string
	for typ, ms := range groups {
		parts = append(parts, fmt.Sprintf(`"%s": {%s}`, typ, strings.Join(ms, ",")))
	}
	body := []byte(`{"ping_info": {"seq": 1, "start_time": "2026-11-22T10:00:00.000+00:00", "end_time": "2026-11-22T11:00:00.000+00:00"},
	 "client_info": {"client_id": "2b4e6a8c-1111-4222-8333-444455556666", "os": "Linux", "app_display_version": "1.0"}, "metrics": {` + strings.Join(parts, ",") + `}}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(16) // 32 clients on this machine's 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", seq.Add(1))
			t0 := time.Now()
			req, _ := http.NewRequest("POST", n.http.URL+"/submit/bench/baseline/1/"+id, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "pings/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
}
