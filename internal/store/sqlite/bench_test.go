package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/steward-privacy/steward/internal/store"
)

// BenchmarkInsertEvents32 commits batches of 32 events with client ids,
// the group commit's typical batch under 32 concurrent clients. Event ids
// are random UUIDs and subject keys HMAC-like, as in real traffic: both
// land on random pages of their indexes, which is what a commit pays for.
func BenchmarkInsertEvents32(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 12, 30, 0, 0, time.UTC)
	batch := make([]store.Event, 32)
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = store.Event{Dataset: "interaction_data", ReceivedAt: day, EventID: uuid.NewString(),
				SubjectKey: fmt.Sprintf("%x", sha256.Sum256(fmt.Appendf(nil, "subject-%d", n%5000))), Data: []byte(`{"language":"en_US","number_emails":3,"screen_size":{"width":640,"height":480},"event_stream":[["picker",732]]}`)}
		}
		if _, err := st.InsertEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	// CPU per event is steadier than throughput on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/event")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListEvents reads pages of 100 events of a day (1000 events of 50
// subjects), the store's part of a read API page: with no erasure waiting,
// then with 1000 subjects waiting for their purge, one of them in the
// range (its 20 events left out).
func BenchmarkListEvents(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	evs := make([]store.Event, 1000)
	for i := range evs {
		evs[i] = store.Event{Dataset: "interaction_data", ReceivedAt: day.Add(time.Duration(i) * time.Second),
			SubjectKey: fmt.Sprintf("%064x", i%50), Data: []byte(`{"language":"en_US","number_emails":3,"new_account":false}`)}
	}
	if _, err := st.InsertEvents(ctx, evs); err != nil {
		b.Fatal(err)
	}
	q := store.EventQuery{Dataset: "interaction_data", From: day, To: day.Add(24 * time.Hour), Limit: 100}
	for _, erased := range []int{0, 1000} {
		if erased > 0 {
			keys := []string{fmt.Sprintf("%064x", 7)}
			for i := range erased - 1 {
				keys = append(keys, fmt.Sprintf("%064x", 1000+i))
			}
			if err := st.AddErasedSubjects(ctx, "bench", keys, day); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("erased=%d", erased), func(b *testing.B) {
			for b.Loop() {
				if got, err := st.ListEvents(ctx, q); err != nil || len(got) != 100 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
