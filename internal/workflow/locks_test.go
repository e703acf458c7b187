package workflow

import (
	"fmt"
	"sync"
	"testing"
)

// TestLocksSerialiseAndForget: one holder per key at a time, keys
// independent, and no entry left once the last holder unlocks.
func TestLocksSerialiseAndForget(t *testing.T) {
	var l Locks
	inside := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("k", i%4)
			unlock := l.Lock(key)
			defer unlock()
			mu.Lock()
			inside[key]++
			n := inside[key]
			mu.Unlock()
			if n != 1 {
				t.Errorf("%d holders of %s", n, key)
			}
			mu.Lock()
			inside[key]--
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := l.Len(); n != 0 {
		t.Fatalf("%d entries left after every holder unlocked", n)
	}
	unlock := l.Lock("a")
	if l.Len() != 1 {
		t.Fatal("held key not counted")
	}
	unlock()
	unlock() // a second call does nothing
	if l.Len() != 0 {
		t.Fatal("entry kept")
	}
}
