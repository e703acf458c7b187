package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	y, body, err := glean.Baseline(40, "bench", registry.DefaultYAML, testNow)
	if err != nil {
		b.Fatal(err)
	}
	cfg := testConfig(b, "")
	cfg.Registry = filepath.Join(b.TempDir(), "r.yaml")
	os.WriteFile(cfg.Registry, y, 0o600)
	n := startNode(b, cfg)
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
