// Command steward-bench measures the collection endpoint over loopback HTTP:
// single-event POSTs from concurrent clients against steward on SQLite and
// on PostgreSQL, and in the same run against a bare net/http handler that
// only reads the body and answers 202 — the ceiling steward is held to —
// and against durable floors (floor.go): the least a collector that
// acknowledges only durable events can do on each backend.
//
//	go run ./cmd/steward-bench [-clients 32] [-duration 10s] [-rounds 3] [-postgres DSN]
//	go run ./cmd/steward-bench detect [-duration 20s]   (the breach monitor's detection latency, detect.go)
//
// Every server runs as its own process so its peak RSS can be read. This
// machine's speed drifts from minute to minute, so -rounds repeats every
// target and adds the medians; each ratio is taken against the bare
// ceiling of its own round.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/glean"
	"github.com/steward-privacy/steward/internal/registry"
)

const event = `{"event_id":"%s","timestamp":1333046100000,"event_stream":[["picker",732],["picker::change",1700],["picker::signin",2300]],` +
	`"email_type":"secondary","number_emails":3,"new_account":false,"language":"en_US","number_sites_logged_in":1,` +
	`"screen_size":{"width":640,"height":480},"sample_rate":1.0,"client_id":"%s"}`

func main() {
	if len(os.Args) > 2 && os.Args[1] == "bare" {
		bare(os.Args[2])
		return
	}
	if len(os.Args) > 4 && os.Args[1] == "floor" {
		floor(os.Args[2], os.Args[3], os.Args[4])
		return
	}
	clients := flag.Int("clients", 32, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "measured time per run")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured time before each run")
	pg := flag.String("postgres", os.Getenv("STEWARD_TEST_POSTGRES"), "PostgreSQL DSN (empty: skip PostgreSQL)")
	profile := flag.String("profile", "", "directory for a CPU profile of each steward run (go tool pprof FILE)")
	rounds := flag.Int("rounds", 1, "times to run every target; more than one adds a table of medians")
	if len(os.Args) > 1 && os.Args[1] == "detect" {
		detect(os.Args[2:])
		return
	}
	flag.Parse()

	tmp, err := os.MkdirTemp("", "steward-bench")
	check(err)
	defer os.RemoveAll(tmp)
	bin := buildSteward(tmp)
	self, err := os.Executable()
	check(err)

	l := load{clients: *clients, duration: *duration, warmup: *warmup}
	fmt.Printf("steward-bench: %d clients, %s per run, loopback HTTP, %d CPUs, %d round(s)\n", l.clients, l.duration, runtime.NumCPU(), *rounds)

	run := func(t target, round int) result {
		addr := freeAddr()
		args := append(t.args[:len(t.args):len(t.args)], "--addr", addr)
		if *profile != "" && args[0] == bin {
			file := fmt.Sprintf("%s-%d.pprof", strings.NewReplacer(" ", "-", ",", "", "+", "-").Replace(t.name), round)
			args = append(args, "--cpu-profile", filepath.Join(*profile, file))
		}
		srv := exec.Command(args[0], args[1:]...)
		if args[0] == self {
			// The bench's own servers take the address last.
			srv = exec.Command(self, append(args[1:len(args)-2:len(args)-2], addr)...)
		}
		srv.Stderr = io.Discard
		check(srv.Start())
		// SIGTERM, so a server writing a profile finishes it.
		defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
		waitReady(addr)
		// Sample CPU and commit sizes over exactly the measured window.
		var before, after usage
		go func() {
			time.Sleep(l.warmup)
			before = sampleUsage(srv.Process.Pid, addr)
		}()
		r := l.run("http://"+addr, t)
		after = sampleUsage(srv.Process.Pid, addr)
		r.rssMB = peakRSS(srv.Process.Pid)
		events := r.eventsPerSec * l.duration.Seconds()
		r.server = perEvent(after.procTicks-before.procTicks, events)
		r.client = perEvent(after.selfTicks-before.selfTicks, events)
		r.db = perEvent(after.dbTicks-before.dbTicks, events)
		r.busy, r.commit = after.busy(before), after.batch(before)
		return r
	}

	// Every round starts from empty stores, so rounds measure the same thing.
	all := map[string][]result{}
	var order []target
	for round := 1; round <= *rounds; round++ {
		dir := filepath.Join(tmp, fmt.Sprint(round))
		check(os.Mkdir(dir, 0o700))
		targets, cleanup := targetsFor(self, bin, dir, *pg)
		if round == 1 {
			order = targets
			if *pg == "" {
				fmt.Println("(PostgreSQL skipped: pass -postgres DSN or set STEWARD_TEST_POSTGRES)")
			}
		}
		fmt.Printf("\nround %d\n", round)
		printHeader()
		var ceiling float64
		for _, t := range targets {
			r := run(t, round)
			if t.name == bareName {
				ceiling = r.eventsPerSec
			}
			r.ratio = r.eventsPerSec / ceiling
			printRow(t.name, r)
			all[t.name] = append(all[t.name], r)
		}
		cleanup()
	}
	if *rounds > 1 {
		fmt.Printf("\nmedian of %d rounds (each ratio against its own round's bare ceiling)\n", *rounds)
		printHeader()
		for _, t := range order {
			printRow(t.name, median(all[t.name]))
		}
	}
}

const bareName = "bare net/http (202, body read)"

// gleanApp is the Glean application id of the ping target.
const gleanApp = "bench"

// target is one server the load is pointed at.
type target struct {
	name  string
	args  []string // command line; the bench's own servers start with its path
	batch int      // events per request
	csrf  bool     // fetch a CSRF token and send it
	// ping, when set, is a Glean ping posted to /submit/ with a new
	// doc_id each time (one ping counts as one event).
	ping []byte
}

// targetsFor lists one round's servers, each on fresh storage under dir
// (and, for PostgreSQL, in a fresh schema of pg, which cleanup drops).
func targetsFor(self, bin, dir, pg string) (targets []target, cleanup func()) {
	ts := []target{{name: bareName, args: []string{self, "bare"}, batch: 1}}
	floorDir := filepath.Join(dir, "floor")
	check(os.Mkdir(floorDir, 0o700))
	floors := func(where string, kinds ...string) {
		for _, k := range kinds {
			ts = append(ts, target{name: "durable floor, " + k, args: []string{self, "floor", k, where}, batch: 1})
		}
	}
	// A Glean baseline ping of 40 metrics, approved at start-up.
	gleanRegistry, ping, err := glean.Baseline(40, gleanApp, registry.DefaultYAML, time.Now())
	check(err)
	gleanFile := filepath.Join(dir, "glean-registry.yaml")
	check(os.WriteFile(gleanFile, gleanRegistry, 0o600))
	steward := func(backend string, extra ...string) {
		args := append([]string{bin, "serve", "--data", filepath.Join(dir, backend), "--rate", "0", "--log-level", "warn"}, extra...)
		// The same data folder (its hashing key is the database's); the
		// approved registry then also holds the built-in datasets.
		gleanArgs := append([]string{bin, "serve", "--data", filepath.Join(dir, backend), "--rate", "0", "--log-level", "warn",
			"--registry", gleanFile, "--approve-registry", "steward-bench: a synthetic Glean baseline ping"}, extra...)
		ts = append(ts,
			target{name: "steward " + backend + " single", args: args, batch: 1, csrf: true},
			target{name: "steward " + backend + " batch of 100", args: args, batch: 100, csrf: true},
			target{name: "steward " + backend + " glean ping (40)", args: gleanArgs, batch: 1, ping: ping})
	}
	floors(floorDir, localFloors...)
	steward("sqlite")
	if pg != "" {
		dsn, drop, err := pgSchema(pg)
		check(err)
		floors(dsn, postgresFloors...)
		steward("postgres", "--db", dsn)
		return ts, drop
	}
	return ts, func() {}
}

func printHeader() {
	fmt.Printf("%-34s %9s %7s %7s %7s %7s %8s %8s %8s %8s %7s\n", "target", "events/s", "× bare", "p50 ms", "p99 ms", "RSS MB", "server", "client", "postgres", "machine", "commit")
	fmt.Printf("%-34s %9s %7s %7s %7s %7s %8s %8s %8s %8s %7s\n", "", "", "", "", "", "", "µs/event", "µs/event", "µs/event", "busy", "events")
}

func printRow(name string, r result) {
	commit := "-"
	if r.commit > 0 {
		commit = strconv.FormatFloat(r.commit, 'f', 1, 64)
	}
	fmt.Printf("%-34s %9.0f %7.2f %7.2f %7.2f %7.1f %8.0f %8.0f %8.0f %7.0f%% %7s\n", name, r.eventsPerSec, r.ratio, r.p50, r.p99, r.rssMB,
		r.server, r.client, r.db, r.busy, commit)
}

// median takes each column's median across rounds on its own.
func median(rs []result) result {
	col := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return result{
		eventsPerSec: col(func(r result) float64 { return r.eventsPerSec }),
		ratio:        col(func(r result) float64 { return r.ratio }),
		p50:          col(func(r result) float64 { return r.p50 }),
		p99:          col(func(r result) float64 { return r.p99 }),
		rssMB:        col(func(r result) float64 { return r.rssMB }),
		server:       col(func(r result) float64 { return r.server }),
		client:       col(func(r result) float64 { return r.client }),
		db:           col(func(r result) float64 { return r.db }),
		busy:         col(func(r result) float64 { return r.busy }),
		commit:       col(func(r result) float64 { return r.commit }),
	}
}

type load struct {
	clients          int
	duration, warmup time.Duration
}

type result struct {
	eventsPerSec, ratio, p50, p99 float64
	rssMB                         float64
	server, client, db            float64 // CPU µs per event
	busy                          float64 // % of the machine
	commit                        float64 // mean events per group commit; 0 for the bench's own servers
	errs                          int
}

func (l load) run(base string, t target) result {
	batch, csrf := t.batch, t.csrf
	tr := &http.Transport{MaxIdleConnsPerHost: l.clients * 2, MaxConnsPerHost: l.clients * 2}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	var total, errs int
	start := time.Now()
	measureFrom := start.Add(l.warmup)
	end := measureFrom.Add(l.duration)
	var wg sync.WaitGroup
	for range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second}
			token := ""
			if csrf {
				resp, err := c.Get(base + "/v1/csrf")
				check(err)
				var t struct{ Token string }
				_ = json.NewDecoder(resp.Body).Decode(&t)
				resp.Body.Close()
				token = t.Token
			}
			var mine []time.Duration
			n, e := 0, 0
			for {
				now := time.Now()
				if now.After(end) {
					break
				}
				var req *http.Request
				if t.ping != nil {
					req, _ = http.NewRequest("POST", base+"/submit/"+gleanApp+"/baseline/1/"+uuid.NewString(), bytes.NewReader(t.ping))
				} else {
					req, _ = http.NewRequest("POST", base+"/v1/collect/interaction_data", strings.NewReader(makeBody(batch)))
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", token)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
				t0 := time.Now()
				resp, err := c.Do(req)
				ok := err == nil && resp.StatusCode < 300
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if ok {
					mine = append(mine, d)
					n += batch
				} else {
					e++
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			total += n
			errs += e
			mu.Unlock()
		}()
	}
	wg.Wait()
	if errs > 0 {
		fmt.Printf("  (%d failed requests)\n", errs)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	return result{eventsPerSec: float64(total) / l.duration.Seconds(), p50: pct(0.50), p99: pct(0.99), errs: errs}
}

func makeBody(batch int) string {
	if batch == 1 {
		return fmt.Sprintf(event, uuid.NewString(), uuid.NewString())
	}
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, event, uuid.NewString(), uuid.NewString())
	}
	b.WriteString("]}")
	return b.String()
}

// bare is the ceiling: the least an HTTP endpoint can do.
func bare(addr string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {})
	check(http.ListenAndServe(addr, mux))
}

func waitReady(addr string) {
	for range 400 {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	fail("server on %s did not become ready", addr)
}

func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// usage is a point-in-time reading of the server's CPU time, the machine's
// CPU counters and steward's commit-size histogram.
type usage struct {
	procTicks          float64 // server utime+stime, clock ticks
	selfTicks          float64 // this load generator's
	dbTicks            float64 // every postgres process's
	busyTicks, allTick float64 // machine-wide, from /proc/stat
	batchSum, batchN   float64 // steward_collect_batch_events
}

func sampleUsage(pid int, addr string) usage {
	var u usage
	u.procTicks, _ = procCPU(fmt.Sprintf("/proc/%d/stat", pid))
	u.selfTicks, _ = procCPU("/proc/self/stat")
	if dirs, err := filepath.Glob("/proc/[0-9]*/stat"); err == nil {
		for _, d := range dirs {
			if t, comm := procCPU(d); comm == "postgres" {
				u.dbTicks += t
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, v := range strings.Fields(line)[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			u.allTick += x
			if i != 3 && i != 4 { // idle, iowait
				u.busyTicks += x
			}
		}
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			name, val, _ := strings.Cut(line, " ")
			x, _ := strconv.ParseFloat(val, 64)
			switch name {
			case "steward_collect_batch_events_sum":
				u.batchSum = x
			case "steward_collect_batch_events_count":
				u.batchN = x
			}
		}
	}
	return u
}

// procCPU reads a process's utime+stime (clock ticks) and command name
// from its /proc stat file.
func procCPU(path string) (float64, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	open, end := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
	if open < 0 || end < open || end+2 > len(b) {
		return 0, ""
	}
	// utime and stime are the 14th and 15th fields of the whole line.
	f := strings.Fields(string(b[end+2:]))
	if len(f) < 13 {
		return 0, ""
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return ut + st, string(b[open+1 : end])
}

// perEvent turns clock ticks (1/100 s on Linux) into µs per event.
func perEvent(ticks, events float64) float64 {
	if events == 0 {
		return 0
	}
	return ticks * 1e4 / events
}

// busy is how much of the whole machine was in use: every process.
func (u usage) busy(before usage) float64 {
	if u.allTick == before.allTick {
		return 0
	}
	return 100 * (u.busyTicks - before.busyTicks) / (u.allTick - before.allTick)
}

// batch is the mean number of events per group commit (0 for the bench's
// own servers, which report none).
func (u usage) batch(before usage) float64 {
	if u.batchN == before.batchN {
		return 0
	}
	return (u.batchSum - before.batchSum) / (u.batchN - before.batchN)
}

// pgSchema makes a fresh schema in base's database and returns a DSN
// whose search_path is it, and a function that drops it.
func pgSchema(base string) (string, func(), error) {
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	schema := "steward_bench_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		c, err := pgx.Connect(ctx, base)
		if err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	}, nil
}

// buildSteward builds the steward binary into dir.
func buildSteward(dir string) string {
	bin := filepath.Join(dir, "steward")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/steward").CombinedOutput()
	if err != nil {
		fail("go build ./cmd/steward (run from the repository root): %v\n%s", err, out)
	}
	return bin
}

func runtimeCPUs() int { return runtime.NumCPU() }

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().String()
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "steward-bench: "+format+"\n", args...)
	os.Exit(1)
}
