package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// BenchmarkInsertEvents32 commits batches of 32 events with client ids,
// the group commit's typical batch under 32 concurrent clients.
func BenchmarkInsertEvents32(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 12, 30, 0, 0, time.UTC)
	batch := make([]store.Event, 32)
	n := 0
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = store.Event{Dataset: "interaction_data", ReceivedAt: day, EventID: fmt.Sprintf("%08d-0c1b-4f7e-9a51-3b2d6f1e8c90", n),
				SubjectKey: fmt.Sprintf("%064x", n%5000), Data: []byte(`{"language":"en_US","number_emails":3,"screen_size":{"width":640,"height":480},"event_stream":[["picker",732]]}`)}
		}
		if _, err := st.InsertEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
