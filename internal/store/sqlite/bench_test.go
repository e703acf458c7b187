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
	"github.com/steward-privacy/steward/internal/store/storetest"
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

// BenchmarkListEvents: see storetest.ListEvents.
func BenchmarkListEvents(b *testing.B) {
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	storetest.ListEvents(b, st)
}

// BenchmarkRequestList: see storetest.RequestList.
func BenchmarkRequestList(b *testing.B) {
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	storetest.RequestList(b, st, nil)
}
