package accesslog_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// A checkpoint vouches for the chain up to the head it signs, so the
// entries since the last one are checked first: an entry edited behind
// steward's back gets no checkpoint, and /metrics counts the outcome.
func TestCheckpointChecksTheChainFirst(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := backends.Open(ctx, "", dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keyer, _ := minimise.NewKeyer(bytes.Repeat([]byte{3}, minimise.MinKeyLen))
	reg := prometheus.NewRegistry()
	m := accesslog.NewMetrics(reg)
	app := accesslog.NewAppender(st, slog.New(slog.DiscardHandler))
	app.SetMetrics(m)
	defer app.Close()
	add := func(n int) {
		for i := range n {
			e := entry(i)
			if i%3 == 0 {
				e.Decision = accesslog.Denied
			}
			if err := app.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	cp := &accesslog.Checkpointer{Store: st, Key: accesslog.CheckpointKey(keyer), Clock: clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)),
		Every: time.Hour, Metrics: m}
	verifications := func(outcome string) float64 {
		return metricValue(t, reg, "steward_access_log_verifications_total", "outcome", outcome)
	}

	add(6)
	if c, added, err := cp.Take(ctx); err != nil || !added || c.Seq != 6 {
		t.Fatalf("first checkpoint: %+v %v %v", c, added, err)
	}
	add(4)
	if c, added, err := cp.Take(ctx); err != nil || !added || c.Seq != 10 {
		t.Fatalf("second checkpoint: %+v %v %v", c, added, err)
	}
	if verifications("ok") != 2 {
		t.Fatalf("ok checks: %v", verifications("ok"))
	}

	add(3)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"DROP TRIGGER access_log_no_update", "UPDATE access_log SET records = 99 WHERE seq = 12"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, added, err := cp.Take(ctx); err == nil || added || !strings.Contains(err.Error(), "entry 12") || !strings.Contains(err.Error(), "edited") {
		t.Fatalf("checkpoint over an edited entry: %v %v", added, err)
	}
	if latest, _ := st.LatestAccessCheckpoint(ctx); latest.Seq != 10 {
		t.Fatalf("latest checkpoint %d, want 10", latest.Seq)
	}
	if verifications("broken") != 1 || verifications("ok") != 2 {
		t.Fatalf("checks: ok %v broken %v", verifications("ok"), verifications("broken"))
	}
	// 13 entries appended, 5 of them denials.
	a := metricValue(t, reg, "steward_access_log_appends_total", "decision", accesslog.Allowed)
	d := metricValue(t, reg, "steward_access_log_appends_total", "decision", accesslog.Denied)
	if a != 8 || d != 5 || metricValue(t, reg, "steward_access_log_verified_seq", "", "") != 10 {
		t.Fatalf("appends: allowed %v denied %v", a, d)
	}
}

// metricValue reads one series of a counter or gauge from reg: the one
// whose label has value (any, when label is "").
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					match = true
				}
			}
			if !match {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
