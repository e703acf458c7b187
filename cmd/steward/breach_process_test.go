package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// TestKillMidBurstEachOffenceInOneIncident kills steward (SIGKILL) while
// its breach monitor is part way through a burst of offending accesses:
// after a restart every offending access belongs to exactly one incident,
// and each incident's owner was told once.
func TestKillMidBurstEachOffenceInOneIncident(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	// The burst is recorded by a node that does not monitor, so the
	// monitoring node below is certainly mid-way when it is killed.
	quiet := startProcess(t, dir, addr, "--no-monitor")
	out, err := exec.Command(stewardBinary(t), "token", "create", "--role", "system", "--name", "warehouse", "--data", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	offending := map[int64]bool{}
	for c := range 3 {
		var accesses []map[string]any
		for i := range 500 {
			accesses = append(accesses, map[string]any{"at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339), "actor": fmt.Sprintf("bob%d", c),
				"credential": fmt.Sprintf("db-%d", c), "role": "analyst", "purpose": "marketing", "dataset": "interaction_data",
				"records": 1, "subject_keys": []string{fmt.Sprintf("k%d", i)}})
		}
		body, _ := json.Marshal(map[string]any{"accesses": accesses})
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/access-log/external", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Seqs []int64 }
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || len(got.Seqs) != 500 {
			t.Fatalf("report: %d %v (token %q)", resp.StatusCode, got, secret)
		}
		for _, s := range got.Seqs {
			offending[s] = true
		}
	}
	_ = quiet.cmd.Process.Signal(syscall.SIGKILL)
	_ = quiet.cmd.Wait()
	p := startProcess(t, dir, addr, "--monitor-batch", "2", "--monitor-every", "20ms")
	ctx := context.Background()
	st, err := backends.Open(ctx, "", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Kill once the monitor is part way.
	deadline := time.Now().Add(20 * time.Second)
	for {
		pos, err := st.GetMonitorPosition(ctx, incident.MonitorName)
		if err != nil {
			t.Fatal(err)
		}
		if pos.Seq > 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitor did not start:\n%s", p.logs)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	killedAt, _ := st.GetMonitorPosition(ctx, incident.MonitorName)
	if killedAt.Seq >= 1500 {
		t.Fatalf("the monitor had finished (%d) before the kill", killedAt.Seq)
	}
	// The old lease must run out (30 s) before the new process may check:
	// it is a different holder, as another node would be.
	p2 := startProcess(t, dir, addr, "--monitor-batch", "25", "--monitor-every", "100ms")
	deadline = time.Now().Add(60 * time.Second)
	for {
		pos, _ := st.GetMonitorPosition(ctx, incident.MonitorName)
		head, _ := st.AccessHead(ctx)
		if pos.Seq == head.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted monitor did not catch up (at %d, head %d, killed at %d):\n%s", pos.Seq, head.Seq, killedAt.Seq, p2.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	list, err := st.ListIncidents(ctx, store.IncidentQuery{})
	if err != nil || len(list) != 3 {
		t.Fatalf("incidents: %d %v", len(list), err)
	}
	seen := map[int64]int{}
	for _, i := range list {
		as, _ := st.IncidentAccesses(ctx, i.ID, 10000)
		if int64(len(as)) != i.Accesses || len(as) != 500 {
			t.Errorf("incident %d: %d accesses attached, counted %d", i.ID, len(as), i.Accesses)
		}
		for _, a := range as {
			seen[a.Seq]++
		}
		msgs, _ := st.ListOutbox(ctx, fmt.Sprintf("incident:%d", i.ID), 100)
		if len(msgs) != 1 || msgs[0].To != "kpi-team@example.org" {
			t.Errorf("incident %d: %d messages", i.ID, len(msgs))
		}
	}
	for s := range offending {
		if seen[s] != 1 {
			t.Errorf("offending access %d belongs to %d incidents", s, seen[s])
		}
	}
	if len(seen) != len(offending) {
		t.Errorf("%d accesses attached, %d offending", len(seen), len(offending))
	}
	t.Logf("killed with the monitor at entry %d of %d", killedAt.Seq, len(offending))
}
