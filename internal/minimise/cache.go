package minimise

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// uaCache is a bounded, concurrency-safe map from (length-capped) user
// agent to its coarse form. It is split into shards, each evicting with the
// CLOCK algorithm (an approximation of LRU): a hit only sets a reference
// bit under a read lock, so concurrent hits on popular agents don't
// serialise, and a hit allocates nothing.
type uaCache struct {
	seed   maphash.Seed
	shards []uaShard
}

type uaShard struct {
	mu    sync.RWMutex
	index map[string]int // key → slot
	slots []uaSlot
	hand  int
	_     [64]byte // so neighbouring shards' locks never share a cache line
}

type uaSlot struct {
	key  string
	val  UserAgent
	used atomic.Bool // CLOCK reference bit
	full bool
}

const uaCacheShards = 16

// newUACache returns a cache holding at most size entries (rounded up to a
// multiple of the shard count), or nil, which caches nothing, if size <= 0.
func newUACache(size int) *uaCache {
	if size <= 0 {
		return nil
	}
	per := (size + uaCacheShards - 1) / uaCacheShards
	c := &uaCache{seed: maphash.MakeSeed(), shards: make([]uaShard, uaCacheShards)}
	for i := range c.shards {
		c.shards[i].index = make(map[string]int, per)
		c.shards[i].slots = make([]uaSlot, per)
	}
	return c
}

func (c *uaCache) shard(key string) *uaShard {
	return &c.shards[maphash.String(c.seed, key)%uaCacheShards]
}

func (c *uaCache) get(key string) (UserAgent, bool) {
	s := c.shard(key)
	s.mu.RLock()
	i, ok := s.index[key]
	var v UserAgent
	if ok {
		v = s.slots[i].val
		if !s.slots[i].used.Load() {
			s.slots[i].used.Store(true)
		}
	}
	s.mu.RUnlock()
	return v, ok
}

func (c *uaCache) put(key string, v UserAgent) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[key]; ok { // another goroutine parsed it meanwhile
		s.slots[i].val = v
		return
	}
	// Sweep: clear reference bits until an unreferenced (or empty) slot
	// comes up. Ends within two turns because the first turn clears all.
	for {
		sl := &s.slots[s.hand]
		if !sl.full || !sl.used.Load() {
			break
		}
		sl.used.Store(false)
		s.hand = (s.hand + 1) % len(s.slots)
	}
	sl := &s.slots[s.hand]
	if sl.full {
		delete(s.index, sl.key)
	}
	// Clone: key may be a slice of a much larger request buffer.
	sl.key, sl.val, sl.full = strings.Clone(key), v, true
	sl.used.Store(false)
	s.index[sl.key] = s.hand
	s.hand = (s.hand + 1) % len(s.slots)
}

// len reports the number of cached entries.
func (c *uaCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.index)
		s.mu.RUnlock()
	}
	return n
}
