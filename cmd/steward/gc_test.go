package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	tuneGC(func(string) string { return "" })
	if p := debug.SetGCPercent(100); p != 400 {
		t.Errorf("GC percent %d, want 400", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 96<<20 {
		t.Errorf("memory limit %d, want 96 MiB", l)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	tuneGC(func(k string) string { return map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}[k] })
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GOGC set: GC percent %d, want it left at 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: limit %d, want it left alone", l)
	}
}
