package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/store"
)

// ListEvents benchmarks reading pages of 100 events of a day (1000 events of 50
// subjects), the store's part of a read API page: with no erasure waiting,
// then with 1000 subjects waiting for their purge, one of them in the
// range (its 20 events left out).
// st must be fresh and migrated; each backend's BenchmarkListEvents
// calls this.
func ListEvents(b *testing.B, st store.Store) {
	ctx := context.Background()
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
