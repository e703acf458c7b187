package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// detect measures the breach monitor's detection latency: while the
// collection load runs, an outside system reports a read outside policy
// at a steady pace (each by a credential of its own, so each opens its
// own incident), and the latency is from sending the report to the
// incident's aware_at, which the monitor stamps as it opens it.
//
//	go run ./cmd/steward-bench detect [-clients 16] [-duration 20s] [-every 250ms] [-postgres DSN]
func detect(args []string) {
	fs := flag.NewFlagSet("steward-bench detect", flag.ExitOnError)
	clients := fs.Int("clients", 16, "concurrent collection clients (the load)")
	duration := fs.Duration("duration", 20*time.Second, "measured time per backend")
	every := fs.Duration("every", 250*time.Millisecond, "time between offending reads")
	monitorEvery := fs.String("monitor-every", "1s", "steward's --monitor-every (its default is 1s)")
	pg := fs.String("postgres", os.Getenv("STEWARD_TEST_POSTGRES"), "PostgreSQL DSN (empty: skip PostgreSQL)")
	check(fs.Parse(args))

	tmp, err := os.MkdirTemp("", "steward-bench-detect")
	check(err)
	defer os.RemoveAll(tmp)
	bin := buildSteward(tmp)
	fmt.Printf("steward-bench detect: %d collection clients, an offending read every %s for %s, monitor idle %s, %d CPUs\n",
		*clients, *every, *duration, *monitorEvery, runtimeCPUs())
	fmt.Printf("%-10s %8s %8s %8s %8s %9s %10s\n", "backend", "reads", "found", "p50 ms", "p99 ms", "max ms", "events/s")
	backends := []struct{ name, dsn string }{{"sqlite", ""}}
	if *pg != "" {
		dsn, drop, err := pgSchema(*pg)
		check(err)
		defer drop()
		backends = append(backends, struct{ name, dsn string }{"postgres", dsn})
	} else {
		defer fmt.Println("(PostgreSQL skipped: pass -postgres DSN or set STEWARD_TEST_POSTGRES)")
	}
	for _, b := range backends {
		dir := filepath.Join(tmp, b.name)
		check(os.Mkdir(dir, 0o700))
		db := []string{"--data", dir}
		if b.dsn != "" {
			db = append(db, "--db", b.dsn)
		}
		run := func(args ...string) string {
			out, err := exec.Command(bin, append(args, db...)...).Output()
			if err != nil {
				fail("steward %s: %v", strings.Join(args, " "), err)
			}
			return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		}
		run("migrate")
		system := run("token", "create", "--role", "system", "--name", "bench-reporter")
		manager := run("token", "create", "--role", "incident_manager", "--name", "bench-manager")

		addr := freeAddr()
		srv := exec.Command(bin, append([]string{"serve", "--rate", "0", "--log-level", "warn", "--monitor-every", *monitorEvery, "--addr", addr}, db...)...)
		srv.Stderr = io.Discard
		check(srv.Start())
		waitReady(addr)
		base := "http://" + addr

		var wg sync.WaitGroup
		var loadResult result
		wg.Add(1)
		go func() {
			defer wg.Done()
			loadResult = load{clients: *clients, duration: *duration, warmup: time.Second}.run(base, target{batch: 1, csrf: true})
		}()
		sent := map[string]time.Time{}
		end := time.Now().Add(time.Second + *duration)
		time.Sleep(time.Second) // the load's warm-up
		for n := 0; time.Now().Before(end); n++ {
			cred := "bench-probe-" + strconv.Itoa(n)
			body, _ := json.Marshal(map[string]any{"accesses": []map[string]any{{"at": time.Now().UTC().Format(time.RFC3339Nano),
				"actor": "warehouse job", "credential": cred, "role": "analyst", "purpose": "marketing", "dataset": "interaction_data",
				"records": 1, "subject_keys": []string{"k" + strconv.Itoa(n)}}}})
			req, _ := http.NewRequest("POST", base+"/v1/access-log/external", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+system)
			req.Header.Set("Content-Type", "application/json")
			at := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					sent[cred] = at
				}
			}
			time.Sleep(*every)
		}
		wg.Wait()
		// Give the monitor a last round before reading the incidents.
		time.Sleep(3 * time.Second)
		aware := incidentsAware(base, manager)
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()

		var lat []float64
		for cred, at := range sent {
			if t, ok := aware[cred]; ok {
				lat = append(lat, float64(t.Sub(at).Microseconds())/1000)
			}
		}
		slices.Sort(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return lat[int(float64(len(lat)-1)*p)]
		}
		fmt.Printf("%-10s %8d %8d %8.1f %8.1f %9.1f %10.0f\n", b.name, len(sent), len(lat), pct(0.5), pct(0.99), pct(1), loadResult.eventsPerSec)
	}
}

// incidentsAware reads every incident and returns each probe credential's
// aware_at.
func incidentsAware(base, tok string) map[string]time.Time {
	out := map[string]time.Time{}
	before := ""
	for {
		req, _ := http.NewRequest("GET", base+"/v1/incidents?source=policy"+before, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		check(err)
		var page struct {
			Incidents []struct {
				ID         int64
				Credential string
				AwareAt    time.Time `json:"aware_at"`
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		check(err)
		for _, i := range page.Incidents {
			// The monitor names a credential "method:id".
			_, cred, _ := strings.Cut(i.Credential, ":")
			out[cred] = i.AwareAt
		}
		if len(page.Incidents) == 0 {
			return out
		}
		before = "&before=" + strconv.FormatInt(page.Incidents[len(page.Incidents)-1].ID, 10)
	}
}
