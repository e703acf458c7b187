package collect

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store/sqlite"
)

// BenchmarkPrepare is collection's own work on one seed event of the
// built-in interaction_data (validation, the subject key, minimisation,
// the suppression check, sampling, encoding), without HTTP or storage,
// whose noise hides it in the server benchmarks.
func BenchmarkPrepare(b *testing.B) {
	reg, err := registry.Default()
	if err != nil {
		b.Fatal(err)
	}
	ds := reg.Dataset("interaction_data")
	k, err := minimise.NewKeyer(bytes.Repeat([]byte{7}, minimise.MinKeyLen))
	if err != nil {
		b.Fatal(err)
	}
	ua, err := minimise.NewUAParser()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 34, 56, 0, time.UTC)
	// 1000 erased subjects on the suppression list, none of them this
	// event's: the check every event pays.
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = k.Hash("subject", fmt.Sprint("erased-", i))
	}
	if err := st.AddErasedSubjects(context.Background(), "bench", keys, now); err != nil {
		b.Fatal(err)
	}
	erased := erasure.New(st, registry.Static(reg), func() time.Time { return now }, nil)
	if _, err := erased.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	c := &Collector{Registry: registry.Static(reg), Keyer: k, UA: ua, Clock: clock.NewFake(now), Erased: erased}
	c.Init()
	raw, err := Decode([]byte(`{"timestamp":1333046100000,"event_stream":[["picker",732],["picker::change",1700]],"email_type":"secondary",`+
		`"number_emails":3,"new_account":false,"language":"en_US","number_sites_logged_in":1,"screen_size":{"width":640,"height":480},`+
		`"sample_rate":1.0,"client_id":"7F1D5A3E-0C1B-4F7E-9A51-3B2D6F1E8C90"}`), c.Config.Limits)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/v1/collect/interaction_data", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
	b.ReportAllocs()
	for b.Loop() {
		if evs, _, errs := c.prepare(ds, raw, r, now); len(errs) > 0 || len(evs) != 1 {
			b.Fatal(errs)
		}
	}
}
