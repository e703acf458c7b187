package storetest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// The benchmark's log, as each backend's fill makes it in SQL (the
// append path would take hours at 10M): entry i (Seq i+1) is at
// BlastStart + i × ⌊90 days / n⌋ (in µs, so no product overflows), by credential "token:tk_%03d" of i mod
// 1000 (actor "token %03d"), in dataset_((i/1000) mod 4), allowed, with
// 2 records and two subject keys out of a million, "s%07d" of
// k1 = i×2654435761 mod 10⁶ and k2 = (k1 + (i mod 1000)×7919 + 1) mod 10⁶.
// So one credential has a thousandth of the log, a third of that in the
// 30 days asked (3333 entries at 10M), spread over four datasets; as the
// multiplier shares factors with 1000, its reads return the same 2000
// people again and again (6666 subject rows, 2000 distinct), as a
// dashboard's credential would. The hashes are unique, not a
// chain: verifying is not what is measured.
const BlastDays = 90

// BlastEntries is the benchmark's log size: STEWARD_BENCH_BLAST_ENTRIES,
// else 10 000 000 (the figure; filling it takes minutes).
func BlastEntries() int {
	if v, err := strconv.Atoi(os.Getenv("STEWARD_BENCH_BLAST_ENTRIES")); err == nil && v > 0 {
		return v
	}
	return 10_000_000
}

// BlastStart is when the benchmark's log begins.
var BlastStart = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// BlastQuery is what the benchmark asks: one credential over the middle
// 30 days.
func BlastQuery() store.BlastQuery {
	return store.BlastQuery{Credential: "token:tk_007", From: BlastStart.Add(30 * 24 * time.Hour), To: BlastStart.Add(60 * 24 * time.Hour), KeysCap: 100000}
}

// BlastRadius benchmarks the blast radius of one credential over 30 days
// of a 90-day log of BlastEntries entries. fill loads the log (each
// backend's bulk path: the append path would take hours at 10M); st
// must be fresh and migrated.
func BlastRadiusBench(b *testing.B, st store.Store, fill func(n int) error) {
	ctx := context.Background()
	n := BlastEntries()
	start := time.Now()
	if err := fill(n); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d entries in %s", n, time.Since(start).Round(time.Second))
	q := BlastQuery()
	var res store.BlastResult
	b.ResetTimer()
	for b.Loop() {
		var err error
		if res, err = st.BlastRadius(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if res.Entries == 0 || res.Subjects == 0 || len(res.Datasets) != 4 {
		b.Fatalf("nothing found: %+v", res)
	}
	b.ReportMetric(float64(res.Entries), "entries")
	b.ReportMetric(float64(res.Subjects), "subjects")
}
