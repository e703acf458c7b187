// Package retention deletes what is past each dataset's declared retention
// and keeps a record of every sweep, so "we keep it 120 days" can be shown
// to hold.
package retention

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// Store is what the sweeper needs.
type Store interface {
	store.Events
	store.Sweeps
}

// Sweeper deletes expired events on a schedule.
type Sweeper struct {
	Registry *registry.Source
	Store    Store
	// Erased, when set, also forgets erased subjects whose suppression
	// has ended in every dataset.
	Erased *erasure.List
	Clock  clock.Clock
	Log    *slog.Logger
	// Every is how often to sweep.
	Every time.Duration
	// Metrics counts sweeps; nil counts nothing.
	Metrics *Metrics
}

// Run sweeps at start and then every s.Every until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		s.SweepOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce sweeps every dataset once and returns the records written.
// A failure on one dataset is recorded and does not stop the others.
func (s *Sweeper) SweepOnce(ctx context.Context) []store.Sweep {
	var out []store.Sweep
	for _, d := range s.Registry.Current().Datasets {
		now := s.Clock.Now()
		sw := store.Sweep{Dataset: d.Name, Cutoff: now.Add(-d.Retention), StartedAt: now}
		n, err := s.Store.DeleteEventsBefore(ctx, d.Name, sw.Cutoff)
		sw.Deleted, sw.FinishedAt = n, s.Clock.Now()
		if err != nil {
			sw.Error = err.Error()
			s.Log.Error("retention: sweep failed", "dataset", d.Name, "err", err)
		} else if n > 0 {
			s.Log.Info("retention: deleted expired events", "dataset", d.Name, "deleted", n, "cutoff", sw.Cutoff)
		}
		s.Metrics.swept(sw)
		id, err := s.Store.RecordSweep(ctx, sw)
		if err != nil {
			s.Log.Error("retention: could not record sweep", "dataset", d.Name, "err", err)
			continue
		}
		sw.ID = id
		out = append(out, sw)
	}
	if s.Erased != nil {
		if n, err := s.Erased.Forget(ctx); err != nil {
			s.Log.Error("retention: could not forget expired erasures", "err", err)
		} else if n > 0 {
			s.Log.Info("retention: forgot erased subject keys whose suppression ended", "keys", n)
		}
	}
	return out
}

type sweepJSON struct {
	ID         int64     `json:"id"`
	Dataset    string    `json:"dataset"`
	Cutoff     time.Time `json:"cutoff"`
	Deleted    int64     `json:"deleted"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Error      string    `json:"error,omitempty"`
}

// Handler serves GET /v1/retention/sweeps?dataset=&limit=.
func (s *Sweeper) Handler(w http.ResponseWriter, r *http.Request) {
	ds := r.URL.Query().Get("dataset")
	if ds != "" && s.Registry.Current().Dataset(ds) == nil {
		problem.New(w, http.StatusNotFound, "unknown-dataset", "no dataset of that name is declared in the registry")
		return
	}
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			problem.New(w, http.StatusBadRequest, "bad-query", "limit must be a whole number from 1 to 1000")
			return
		}
		limit = n
	}
	sweeps, err := s.Store.ListSweeps(r.Context(), ds, limit)
	if err != nil {
		s.Log.Error("retention: list failed", "err", err)
		w.Header().Set("Retry-After", "5")
		problem.New(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return
	}
	out := make([]sweepJSON, 0, len(sweeps))
	for _, sw := range sweeps {
		out = append(out, sweepJSON(sw))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sweeps": out})
}
