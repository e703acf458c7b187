package accesslog

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func chain(n int) []*Entry {
	var out []*Entry
	var prev []byte
	for i := 1; i <= n; i++ {
		e := &Entry{Seq: int64(i), At: time.Unix(int64(1_800_000_000+i), 0), Actor: "dashboard", AuthMethod: "token",
			CredentialID: "abc", Role: "analyst", Purpose: "product_improvement", Dataset: "interaction_data",
			Query: "from=…", Records: int64(i), Subjects: 2, SubjectKeys: []string{"k2", "k1"}, ClientNet: "127.0.0.0", Decision: Allowed}
		Seal(e, prev)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func verify(es []*Entry) error {
	v := NewVerifier()
	for _, e := range es {
		if err := v.Check(e); err != nil {
			return err
		}
	}
	return nil
}

func TestChainDetectsTampering(t *testing.T) {
	if err := verify(chain(10)); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	cases := map[string]struct {
		tamper func([]*Entry) []*Entry
		seq    int64
	}{
		"edited":    {func(es []*Entry) []*Entry { es[4].Records = 0; return es }, 5},
		"deleted":   {func(es []*Entry) []*Entry { return append(es[:6], es[7:]...) }, 7},
		"reordered": {func(es []*Entry) []*Entry { es[2], es[3] = es[3], es[2]; return es }, 3},
		"replaced": {func(es []*Entry) []*Entry {
			e := *es[7]
			e.Actor = "intruder"
			e.Hash = ComputeHash(&e) // rehashed, but the next entry still links to the old hash
			es[7] = &e
			return es
		}, 9},
		"truncated front": {func(es []*Entry) []*Entry { return es[1:] }, 1},
	}
	for name, c := range cases {
		var b *Break
		err := verify(c.tamper(chain(10)))
		if !errors.As(err, &b) || b.Seq != c.seq {
			t.Errorf("%s: got %v, want a break at entry %d", name, err, c.seq)
		}
	}
}

func TestSubjectKeyOrderDoesNotMatter(t *testing.T) {
	a := &Entry{Seq: 1, SubjectKeys: []string{"b", "a"}}
	b := &Entry{Seq: 1, SubjectKeys: []string{"a", "b"}}
	Seal(a, nil)
	Seal(b, nil)
	if fmt.Sprint(a.Hash) != fmt.Sprint(b.Hash) {
		t.Fatal("subject key order changed the hash")
	}
}

func BenchmarkVerify(b *testing.B) {
	es := chain(1000)
	b.ResetTimer()
	for b.Loop() {
		if err := verify(es); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "entries/s")
}
