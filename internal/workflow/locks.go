package workflow

import "sync"

// Locks serialises work on one entity within this process (across
// processes the version check keeps changes single). An entry exists only
// while someone holds or waits for it, so the map does not grow with every
// entity ever worked on. The zero value is ready.
type Locks struct {
	mu   sync.Mutex
	keys map[string]*lockEntry
}

type lockEntry struct {
	sync.Mutex
	refs int // holders and waiters
}

// Lock waits for key and returns the func that releases it.
func (l *Locks) Lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]*lockEntry{}
	}
	e := l.keys[key]
	if e == nil {
		e = &lockEntry{}
		l.keys[key] = e
	}
	e.refs++
	l.mu.Unlock()
	e.Lock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.Unlock()
			l.mu.Lock()
			if e.refs--; e.refs == 0 {
				delete(l.keys, key)
			}
			l.mu.Unlock()
		})
	}
}

// Len is how many keys are held or waited for.
func (l *Locks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
