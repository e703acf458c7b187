package main

import "testing"

func TestVerifyCountingWords(t *testing.T) {
	for _, c := range []struct {
		seq, checked int64
		want         string
	}{
		{1, 0, "no entry before it verified"},
		{0, 0, "no entry before it verified"},
		{2, 1, "the entry before it verified"},
		{5, 4, "the 4 entries before it verified"},
		{9, 1, "entry 1 verified"},
		{9, 3, "entries 1 to 3 verified"},
	} {
		if got := verifiedBefore(c.seq, c.checked); got != c.want {
			t.Errorf("break at %d after %d: %q, want %q", c.seq, c.checked, got, c.want)
		}
	}
	if count(1, "entry", "entries") != "1 entry" || count(0, "entry", "entries") != "0 entries" || count(3, "entry", "entries") != "3 entries" {
		t.Error("count")
	}
}
