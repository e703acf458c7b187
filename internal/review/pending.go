package review

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// Pending is this node's index of what open proposals would add or change,
// so collection can answer an event that carries such a field with its
// proposal and state instead of a bare "not declared". Collection reads it
// only for fields the registry in force does not accept, so it costs the
// accepted path nothing.
type Pending struct {
	idx atomic.Pointer[map[string]PendingItem]

	mu    sync.Mutex
	cache map[int64]cachedKeys // by proposal id, valid for one revision
}

// PendingItem is the open proposal that holds a dataset or field.
type PendingItem struct {
	Proposal int64
	State    string
	What     string
}

type cachedKeys struct {
	revision, base int64
	items          map[string]string // key → what
}

// Lookup returns the open proposal that would add or change dataset's
// field ("" for the dataset itself).
func (p *Pending) Lookup(dataset, field string) (PendingItem, bool) {
	m := p.idx.Load()
	if m == nil {
		return PendingItem{}, false
	}
	key := dataset
	if field != "" {
		key += "." + field
	}
	it, ok := (*m)[key]
	return it, ok
}

func (p *Pending) forget(id int64) {
	p.mu.Lock()
	delete(p.cache, id)
	p.mu.Unlock()
}

// UnderReview says, for collection, why dataset's field is not accepted
// yet, or "" when no open proposal holds it.
func (s *Service) UnderReview(dataset, field string) string {
	it, ok := s.pending.Lookup(dataset, field)
	if !ok {
		return ""
	}
	return fmt.Sprintf("under review (%s in proposal %d, %s): not collected until approved", it.What, it.Proposal, it.State)
}

// RefreshPending rebuilds the index from the open proposals.
func (s *Service) RefreshPending(ctx context.Context) error {
	states := make([]string, len(Open))
	for i, st := range Open {
		states[i] = string(st)
	}
	open, err := s.Store.ListProposals(ctx, store.ProposalQuery{States: states, Limit: 1000})
	if err != nil {
		return err
	}
	p := &s.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		p.cache = map[int64]cachedKeys{}
	}
	idx := map[string]PendingItem{}
	live := map[int64]bool{}
	// Oldest first, so a key two proposals hold names the newest.
	for i := len(open) - 1; i >= 0; i-- {
		pr := open[i]
		live[pr.ID] = true
		c, ok := p.cache[pr.ID]
		if !ok || c.revision != int64(pr.Revision) || c.base != pr.BaseVersion {
			v, err := s.View(ctx, pr)
			if err != nil {
				s.log().Warn("review: cannot read an open proposal for the collection index", "proposal", pr.ID, "err", err)
				continue
			}
			c = cachedKeys{revision: int64(pr.Revision), base: pr.BaseVersion, items: map[string]string{}}
			for _, ch := range v.Changes {
				if ch.Kind != "removed" {
					c.items[ch.Key()] = ch.What
				}
			}
			p.cache[pr.ID] = c
		}
		for k, what := range c.items {
			idx[k] = PendingItem{Proposal: pr.ID, State: pr.State, What: what}
		}
	}
	for id := range p.cache {
		if !live[id] {
			delete(p.cache, id)
		}
	}
	p.idx.Store(&idx)
	return nil
}

// Tick refreshes the index and sends the expiry notices that are due.
func (s *Service) Tick(ctx context.Context) error {
	if err := s.RefreshPending(ctx); err != nil {
		return err
	}
	return s.NotifyExpiring(ctx)
}

// WatchPending refreshes the index every interval until ctx ends, so an
// event carrying a field proposed on another node is answered with its
// proposal too. The proposal list is one indexed query.
func (s *Service) WatchPending(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.RefreshPending(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("review: cannot refresh the index of open proposals", "err", err)
		}
	}
}
