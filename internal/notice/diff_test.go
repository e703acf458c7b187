package notice_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
)

func languages(t testing.TB) *notice.Languages {
	t.Helper()
	ls, err := notice.LoadLanguages()
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// TestDiffInPlainWords: a registry change (a new field, a longer
// retention, a coarser address) and a policy change (a new purpose for
// analysts) read as the sentences a person would write.
func TestDiffInPlainWords(t *testing.T) {
	reg := wideRegistry(t)
	before := build(t, inputs(reg, widePolicy(t, reg)))

	y := append(bytes.Clone(registry.DefaultYAML), accountsYAML...)
	y = bytes.Replace(y, []byte("    retention: 120d\n    owner: kpi-team"), []byte("    retention: 180d\n    owner: kpi-team"), 1)
	y = bytes.Replace(y, []byte("      language:      {type: string"),
		[]byte("      theme:         {type: enum, values: [light, dark], category: 1, description: Colour scheme.}\n      language:      {type: string"), 1)
	y = bytes.Replace(y, []byte("description: Client network (/24) and never the full address., minimise: {truncate: /24}"),
		[]byte("description: Client network (/16)., minimise: {truncate: {v4: 16, v6: 32}}"), 1)
	reg2, problems := registry.ParseWith(y, "v2.yaml", registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	pol := bytes.Replace(append(bytes.Clone(policy.DefaultYAML), accountsPolicy...),
		[]byte("- role: analyst\n      purposes: [product_improvement]"), []byte("- role: analyst\n      purposes: [product_improvement, data_quality]"), 1)
	p2, probs := policy.Parse(pol, "policy.yaml", reg2)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	after := build(t, inputs(reg2, p2))

	en := languages(t).Get("en")
	var got []string
	for _, c := range notice.Diff(before, after) {
		got = append(got, en.Change(c))
	}
	want := []string{
		"interaction_data is now kept longer: 180 days instead of 120 days.",
		"New field theme in interaction_data: Colour scheme. Stored: as sent.",
		"client_ip in interaction_data is now described as: Client network (/16).",
		"How client_ip in interaction_data is stored changed: now its network only: the first 16 bits of an IPv4 address, 32 of an IPv6 address; before, its network only: the first 24 bits of an IPv4 address, 48 of an IPv6 address.",
		"Analysts may now read interaction_data for improving the product and checking the quality of the data (was improving the product).",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff in words:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := notice.Diff(after, after); len(d) != 0 {
		t.Fatalf("a notice differs from itself: %+v", d)
	}
}

// TestDiffEmptyOnlyWhenSame: every change to what the notice says gives a
// non-empty diff (the review's legal sign-off depends on it), and only
// such changes do.
func TestDiffEmptyOnlyWhenSame(t *testing.T) {
	reg := wideRegistry(t)
	base := build(t, inputs(reg, widePolicy(t, reg)))
	clone := func() *notice.Notice {
		b, _ := json.Marshal(base)
		var n notice.Notice
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	mutations := map[string]func(n *notice.Notice){
		"controller":       func(n *notice.Notice) { n.Controller.DPO = "" },
		"dataset removed":  func(n *notice.Notice) { n.Datasets = n.Datasets[1:] },
		"purpose":          func(n *notice.Notice) { n.Datasets[0].Purpose = "marketing" },
		"basis":            func(n *notice.Notice) { n.Datasets[0].LawfulBasis = "consent" },
		"sample":           func(n *notice.Notice) { n.Datasets[0].SampleRate = 0.1 },
		"origins":          func(n *notice.Notice) { n.Datasets[0].Origins = []string{"https://x.example"} },
		"subject":          func(n *notice.Notice) { n.Datasets[0].Subject = nil },
		"field removed":    func(n *notice.Notice) { n.Datasets[0].Fields = n.Datasets[0].Fields[1:] },
		"category":         func(n *notice.Notice) { n.Datasets[0].Fields[0].Category = 4 },
		"field values":     func(n *notice.Notice) { n.Datasets[0].Fields[2].Values = []string{"primary"} },
		"field source":     func(n *notice.Notice) { n.Datasets[0].Fields[0].Source = "server" },
		"reader removed":   func(n *notice.Notice) { n.Datasets[0].Readers = n.Datasets[0].Readers[1:] },
		"reader lookup":    func(n *notice.Notice) { n.Datasets[0].Readers[0].Lookup = true },
		"reader raw":       func(n *notice.Notice) { n.Datasets[0].Readers[0].RawIdentifiers = true },
		"reader fields":    func(n *notice.Notice) { n.Datasets[0].Readers[0].Fields = n.Datasets[0].Readers[0].Fields[1:] },
		"reader order":     func(n *notice.Notice) { r := n.Datasets[0].Readers; r[0], r[1] = r[1], r[0] },
		"opt-out":          func(n *notice.Notice) { n.OptOut = n.OptOut[:1] },
		"location":         func(n *notice.Notice) { n.Location = "US" },
		"rate limited":     func(n *notice.Notice) { n.RateLimited = false },
		"access log":       func(n *notice.Notice) { n.AccessLogReaders = n.AccessLogReaders[:1] },
		"grace":            func(n *notice.Notice) { n.Requests.Grace = 0 },
		"support":          func(n *notice.Notice) { n.Requests.SupportNotified = false },
		"system removed":   func(n *notice.Notice) { n.Requests.Systems = n.Requests.Systems[:1] },
		"system safeguard": func(n *notice.Notice) { n.Requests.Systems[1].Safeguards = "" },
		"question":         func(n *notice.Notice) { n.Datasets[0].Can = n.Datasets[0].Can[1:] },
		"received":         func(n *notice.Notice) { n.Datasets[0].Received = n.Datasets[0].Received[1:] },
	}
	ls := languages(t)
	for name, mutate := range mutations {
		n := clone()
		mutate(n)
		changes := notice.Diff(base, n)
		if len(changes) == 0 {
			t.Errorf("%s: the notice changed and Diff says nothing", name)
		}
		for _, c := range changes {
			for _, m := range ls.All() {
				if w := m.Change(c); w == "" || strings.Contains(w, "change.") || strings.Contains(w, "{") {
					t.Errorf("%s (%s): %q in %s", name, c.Kind, w, m.Lang())
				}
			}
		}
	}
	if d := notice.Diff(base, clone()); len(d) != 0 {
		t.Fatalf("the same notice: %+v", d)
	}
}
