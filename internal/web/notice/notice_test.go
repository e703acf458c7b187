package notice

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
)

// bigRegistry declares datasets × fields fields of every type and
// minimisation, with a policy that lets analysts and data stewards read
// each dataset.
func bigRegistry(tb testing.TB, datasets, fields int) (*registry.Registry, *policy.Policy) {
	tb.Helper()
	var y, p strings.Builder
	y.WriteString("controller: {name: Example Ltd, contact: privacy@example.org, dpo: dpo@example.org}\ndatasets:\n")
	p.WriteString("datasets:\n")
	kinds := []string{
		"{type: string, max_length: 64, category: 1, description: A label the product sends.}",
		"{type: integer, min: 0, max: 1000, category: 2, description: A count.}",
		"{type: timestamp, category: 1, description: When it happened., minimise: {round: 10m}}",
		"{type: enum, values: [a, b, c], category: 2, description: A choice.}",
		"{type: boolean, category: 2, description: A switch.}",
		"{type: uuid, category: 2, description: An id kept as a hash., minimise: {hash: true}}",
		"{type: number, category: 3, description: A measurement.}",
		"{type: string, category: 4, description: Typed text that is never kept., minimise: {drop: true}}",
	}
	for d := range datasets {
		fmt.Fprintf(&y, "  ds_%02d:\n    description: Dataset %d of a large product.\n    purpose: product_improvement\n    lawful_basis: legitimate_interest\n"+
			"    retention: %dd\n    owner: team@example.org\n    expires: never\n    subject: {field: client_id, kind: pseudonymous}\n    fields:\n", d, d, 30+d)
		y.WriteString("      client_id: {type: uuid, category: 2, description: Random browser id., minimise: {hash: true}}\n")
		y.WriteString("      client_ip: {type: ip, source: request, category: 1, description: Network.}\n")
		y.WriteString("      user_agent: {type: user_agent, source: request, category: 1, description: Browser family.}\n")
		for f := 3; f < fields; f++ {
			fmt.Fprintf(&y, "      field_%02d: %s\n", f, kinds[f%len(kinds)])
		}
		fmt.Fprintf(&p, "  ds_%02d:\n    - {role: analyst, purposes: [product_improvement], max_category: 2}\n"+
			"    - {role: data_steward, purposes: [product_improvement, data_quality], max_category: 4, lookup: true}\n", d)
	}
	reg, problems := registry.ParseWith([]byte(y.String()), "big.yaml", registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		tb.Fatal(problems[0])
	}
	pol, probs := policy.Parse([]byte(p.String()), "big-policy.yaml", reg)
	if len(probs) > 0 {
		tb.Fatal(probs[0])
	}
	return reg, pol
}

func pagesFor(tb testing.TB, reg *registry.Registry, pol *policy.Policy) *Pages {
	tb.Helper()
	langs, err := notice.LoadLanguages()
	if err != nil {
		tb.Fatal(err)
	}
	svc := &notice.Service{Registry: registry.Static(reg), Policy: policy.StaticSource(pol),
		Settings: notice.Inputs{Systems: []notice.System{{Name: "steward-events", Kind: "events", Location: "DE"}},
			OptOut: consent.Honoured(), ReceiveRound: 10 * time.Minute, RateLimited: true,
			AccessLogReaders: []string{"auditor", "incident_manager"}, RequestWorkers: []string{"support", "admin"},
			Grace: 30 * 24 * time.Hour}}
	return &Pages{Service: svc, Languages: langs, PublicURL: "https://privacy.example.org", Clock: time.Now,
		Log: slog.New(slog.DiscardHandler)}
}

// TestNoticeServedFromMemory: the notice is rendered once per version and
// language; later requests get the same bytes without rendering again.
func TestNoticeServedFromMemory(t *testing.T) {
	reg, pol := bigRegistry(t, 3, 10)
	p := pagesFor(t, reg, pol)
	get := func(lang string) string {
		rec := httptest.NewRecorder()
		p.InForce(rec, httptest.NewRequest("GET", "/privacy?lang="+lang, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%d", rec.Code)
		}
		return rec.Body.String()
	}
	first := get("en")
	if len(p.cache) != 1 {
		t.Fatalf("%d pages in memory after one request", len(p.cache))
	}
	// Changing the kept page shows that the second request reads it.
	for k := range p.cache {
		p.cache[k] = []byte(strings.Replace(first, "Privacy notice", "From memory", 1))
	}
	if !strings.Contains(get("en"), "From memory") {
		t.Fatal("the second request rendered the page again")
	}
	if got := get("de"); !strings.Contains(got, "Datenschutzhinweis") || len(p.cache) != 2 {
		t.Fatalf("German: %d pages kept", len(p.cache))
	}
}

// BenchmarkNoticeRender is what the first request for the notice of a
// registry version costs: build the notice of 50 datasets and 2 000
// fields and render its page. The target is under 50 ms.
func BenchmarkNoticeRender(b *testing.B) {
	reg, pol := bigRegistry(b, 50, 40)
	p := pagesFor(b, reg, pol)
	en := p.Languages.Get("en")
	req := httptest.NewRequest("GET", "/privacy", nil)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		n, err := p.Service.Build(reg)
		if err != nil {
			b.Fatal(err)
		}
		v := notice.Version{Number: 1, Notice: n}
		page, err := p.render(req, "notice", v, 1, []notice.Version{v}, "/privacy", en)
		if err != nil {
			b.Fatal(err)
		}
		size = len(page)
	}
	b.ReportMetric(float64(size)/1024, "KiB/page")
}

// BenchmarkNoticeCached is every later request: the page from memory.
func BenchmarkNoticeCached(b *testing.B) {
	reg, pol := bigRegistry(b, 50, 40)
	p := pagesFor(b, reg, pol)
	req := httptest.NewRequest("GET", "/privacy", nil)
	p.InForce(httptest.NewRecorder(), req)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		p.InForce(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
