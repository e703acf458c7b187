package notice_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
)

// accountsYAML is a dataset that uses what the default registry does not:
// a direct subject stored as sent, a hashed e-mail, a dropped field and a
// dropped address, an unrounded time, CORS origins, sampling, nested
// members and a category 3 field.
const accountsYAML = `
  accounts:
    description: Account activity, to find sign-in problems.
    purpose: service_debugging
    lawful_basis: contract
    retention: 30d
    owner: accounts@example.org
    expires: never
    sample_rate: 0.5
    suppress_erased: 60d
    access: {origins: [https://app.example.org]}
    subject: {field: account_id, kind: direct}
    fields:
      account_id:   {type: string, max_length: 64, category: 2, description: The account.}
      email:        {type: string, category: 2, description: Sign-in address., minimise: {hash: true}}
      hint:         {type: string, category: 2, description: Password hint typed by mistake., minimise: {drop: true}}
      signed_in_at: {type: timestamp, category: 1, description: When the sign-in happened.}
      peer:         {type: ip, source: request, category: 1, minimise: {truncate: drop}}
      pages:        {type: array, category: 3, description: Pages seen before signing in., items: {type: string}}
      device:
        type: object
        category: 1
        fields:
          width:  {type: integer, min: 0, max: 100000}
          seen:   {type: timestamp, minimise: {round: 1h}}
`

const accountsPolicy = `
  accounts:
    - {role: analyst, purposes: [service_debugging], max_category: 2}
    - {role: support, purposes: [data_subject_request], max_category: 4, lookup: true, raw_identifiers: true}
`

func wideRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	reg, problems := registry.ParseWith(append(bytes.Clone(registry.DefaultYAML), accountsYAML...), "test.yaml",
		registry.Options{AllowExpired: true})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return reg
}

func widePolicy(t testing.TB, reg *registry.Registry) *policy.Policy {
	t.Helper()
	p, problems := policy.Parse(append(bytes.Clone(policy.DefaultYAML), accountsPolicy...), "policy.yaml", reg)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return p
}

func inputs(reg *registry.Registry, p *policy.Policy) notice.Inputs {
	return notice.Inputs{Registry: reg, Policy: p,
		Systems: []notice.System{{Name: "steward-events", Kind: "events", Location: "DE"},
			{Name: "app_db", Kind: "sql", Label: "Our account database", Location: "US", Safeguards: "standard contractual clauses"}},
		OptOut: consent.Honoured(), ReceiveRound: 10 * time.Minute, RateLimited: true,
		AccessLogReaders: []string{"auditor", "incident_manager"}, RequestWorkers: []string{"support", "admin"},
		Grace: 30 * 24 * time.Hour, SupportNotified: true}
}

func build(t testing.TB, in notice.Inputs) *notice.Notice {
	t.Helper()
	n, err := notice.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// expectedStored is the stored form the registry's minimisation gives,
// worked out here from the registry's own model, not from notice.
func expectedStored(f *registry.Field) notice.Stored {
	m := f.Minimise
	switch {
	case m.Drop:
		return notice.Stored{Form: notice.NotStored}
	case m.Hash:
		return notice.Stored{Form: notice.Hashed}
	case f.Type == registry.TypeIP:
		return notice.Stored{Form: notice.Truncated, IPv4: m.TruncateV4, IPv6: m.TruncateV6}
	case f.Type == registry.TypeUserAgent:
		return notice.Stored{Form: notice.Coarse}
	case f.Type == registry.TypeTimestamp && m.Round > 0:
		return notice.Stored{Form: notice.Rounded, Round: notice.Duration(m.Round)}
	}
	return notice.Stored{Form: notice.AsSent}
}

// TestNoticeMatchesRegistry: every declared field of every dataset appears
// once, with its stored form and retention, and nothing else does.
func TestNoticeMatchesRegistry(t *testing.T) {
	reg := wideRegistry(t)
	n := build(t, inputs(reg, widePolicy(t, reg)))
	if len(n.Datasets) != len(reg.Datasets) {
		t.Fatalf("%d datasets in the notice, %d in the registry", len(n.Datasets), len(reg.Datasets))
	}
	for i, rd := range reg.Datasets {
		nd := n.Datasets[i]
		if nd.Name != rd.Name || nd.Purpose != rd.Purpose || nd.LawfulBasis != rd.LawfulBasis || nd.Retention.D() != rd.Retention {
			t.Errorf("%s: dataset facts %+v", rd.Name, nd)
		}
		if len(nd.Fields) != len(rd.Fields) {
			t.Errorf("%s: %d fields in the notice, %d declared", rd.Name, len(nd.Fields), len(rd.Fields))
		}
		seen := map[string]int{}
		for _, f := range nd.Fields {
			seen[f.Name]++
			rf := rd.Field(f.Name)
			if rf == nil {
				t.Errorf("%s: the notice shows %s, which is not declared", rd.Name, f.Name)
				continue
			}
			if want := expectedStored(rf); f.Stored != want {
				t.Errorf("%s.%s: stored %+v, want %+v", rd.Name, f.Name, f.Stored, want)
			}
			wantKept := rd.Retention
			if rf.Minimise.Drop {
				wantKept = 0
			}
			if f.Retention.D() != wantKept || f.Category != int(rf.Category) || f.Description != rf.Description {
				t.Errorf("%s.%s: retention %s category %d, want %s %d", rd.Name, f.Name, f.Retention, f.Category, wantKept, rf.Category)
			}
		}
		for _, rf := range rd.Fields {
			if seen[rf.Name] != 1 {
				t.Errorf("%s.%s appears %d times in the notice, want once", rd.Name, rf.Name, seen[rf.Name])
			}
		}
	}
}

func dataset(t *testing.T, n *notice.Notice, name string) notice.Dataset {
	t.Helper()
	for _, d := range n.Datasets {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no dataset %s", name)
	return notice.Dataset{}
}

func kinds(qs []notice.Question) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.Kind)
	}
	return out
}

// TestNoticeDerivesWhatItSays: readers, sources, computed values and the
// questions follow from the policy and the minimisation.
func TestNoticeDerivesWhatItSays(t *testing.T) {
	reg := wideRegistry(t)
	n := build(t, inputs(reg, widePolicy(t, reg)))
	acc := dataset(t, n, "accounts")
	if acc.From != notice.FromBrowser || !slices.Equal(acc.Origins, []string{"https://app.example.org"}) || acc.SampleRate != 0.5 ||
		acc.Subject == nil || acc.Subject.Kind != "direct" || acc.Subject.Hashed || acc.Suppressed.D() != 60*24*time.Hour {
		t.Fatalf("accounts facts: %+v", acc)
	}
	var analyst, support notice.Reader
	for _, r := range acc.Readers {
		switch r.Role {
		case "analyst":
			analyst = r
		case "support":
			support = r
		}
	}
	// Analysts: up to category 2, never the dropped hint, never the raw
	// account id (no raw_identifiers).
	if want := []string{"email", "signed_in_at", "device"}; !slices.Equal(analyst.Fields, want) {
		t.Errorf("analyst fields %v", analyst.Fields)
	}
	if slices.Contains(analyst.Fields, "account_id") || slices.Contains(analyst.Fields, "pages") || slices.Contains(analyst.Fields, "hint") {
		t.Errorf("analysts are shown fields they cannot read: %v", analyst.Fields)
	}
	if !slices.Contains(support.Fields, "account_id") || !slices.Contains(support.Fields, "pages") || !support.Lookup || !support.RawIdentifiers {
		t.Errorf("support: %+v", support)
	}
	can, cannot := kinds(acc.Can), kinds(acc.Cannot)
	// The address is dropped and a time field is not rounded: no network
	// can be told, and the exact moment can.
	if !slices.Contains(can, notice.QFindBySubject) || slices.Contains(can, notice.QNetwork) || !slices.Contains(cannot, notice.QNoAddress) ||
		slices.Contains(cannot, notice.QExactTime) || !slices.Contains(cannot, notice.QDropped) || !slices.Contains(cannot, notice.QHashedValue) {
		t.Errorf("accounts questions: can %v, cannot %v", can, cannot)
	}
	for _, q := range acc.Can {
		if q.Kind == notice.QTime && q.Round != 0 {
			t.Errorf("an unrounded time field, yet the notice says times are known only to within %s", q.Round)
		}
	}
	ix := dataset(t, n, "interaction_data")
	if !slices.Contains(kinds(ix.Can), notice.QNetwork) || !slices.Contains(kinds(ix.Cannot), notice.QExactTime) {
		t.Errorf("interaction_data questions: %v / %v", kinds(ix.Can), kinds(ix.Cannot))
	}
	rl := dataset(t, n, "request_log")
	if rl.From != notice.FromServer || rl.Subject != nil || !slices.Contains(kinds(rl.Cannot), notice.QNotLinked) ||
		!slices.Contains(kinds(rl.Can), notice.QServerNetwork) || slices.Contains(kinds(rl.Can), notice.QNetwork) {
		t.Errorf("request_log: from %s, can %v, cannot %v", rl.From, kinds(rl.Can), kinds(rl.Cannot))
	}
	var items []string
	for _, r := range rl.Received {
		items = append(items, r.Item)
	}
	if !slices.Contains(items, notice.RecvWriteKey) || slices.Contains(items, notice.RecvCookies) || slices.Contains(items, notice.RecvGPC) {
		t.Errorf("request_log is sent by servers with a write key: received %v", items)
	}
	var comp []string
	for _, c := range acc.Computed {
		comp = append(comp, c.Item)
	}
	if !slices.Equal(comp[:3], []string{notice.CompReceiveTime, notice.CompSubjectKey, notice.CompEventID}) {
		t.Errorf("accounts computed: %v", comp)
	}
	if !n.Requests.Systems[1].OutsideEEA() || n.Requests.Systems[0].OutsideEEA() || n.Location != "DE" {
		t.Errorf("systems: %+v", n.Requests.Systems)
	}
}

// TestNoticeJSONRoundTrips: /privacy.json is the notice, and reading it
// back gives the same notice (the diff of the two is empty).
func TestNoticeJSONRoundTrips(t *testing.T) {
	reg := wideRegistry(t)
	n := build(t, inputs(reg, widePolicy(t, reg)))
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	var back notice.Notice
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := notice.Diff(n, &back); len(d) != 0 {
		t.Fatalf("a notice read back from its JSON differs: %+v", d)
	}
	if !strings.Contains(string(b), `"retention":"30d"`) || !strings.Contains(string(b), `"form":"not_stored"`) {
		t.Fatalf("JSON does not write durations and forms as documented: %.400s", b)
	}
}
