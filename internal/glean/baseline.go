package glean

import (
	"fmt"
	"strings"
	"time"
)

// Baseline is a synthetic baseline-sized Glean workload for benchmarks
// (the Go benchmark of the submission path and steward-bench): a
// metrics.yaml of n metrics of four common types sent in the "baseline"
// ping, the registry proposal it imports to on top of base, and one ping
// carrying every metric, grouped by type as Glean sends them.
func Baseline(n int, appID string, base []byte, now time.Time) (registryYAML, ping []byte, err error) {
	var m strings.Builder
	m.WriteString("$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0\nbaseline:\n")
	types := []string{"counter", "string", "boolean", "quantity"}
	values := map[string]string{"counter": "5", "string": `"abc"`, "boolean": "true", "quantity": "17"}
	groups := map[string][]string{}
	for i := range n {
		typ := types[i%len(types)]
		extra := ""
		if typ == "quantity" {
			extra = "\n    unit: x"
		}
		fmt.Fprintf(&m, "  m%d:\n    type: %s%s\n    description: x\n    data_sensitivity: [technical]\n    send_in_pings: [baseline]\n"+
			"    expires: never\n    bugs: [https://bugs.example/1]\n    data_reviews: [https://r.example/1]\n    notification_emails: [a@example.org]\n", i, typ, extra)
		groups[typ] = append(groups[typ], fmt.Sprintf(`"baseline.m%d": %s`, i, values[typ]))
	}
	res, err := Import([]File{{Name: "metrics.yaml", Data: []byte(m.String())}}, Options{AppID: appID, Now: now})
	if err != nil {
		return nil, nil, err
	}
	if registryYAML, err = Proposal(base, res, appID, now); err != nil {
		return nil, nil, err
	}
	var parts []string
	for _, typ := range types {
		if len(groups[typ]) > 0 {
			parts = append(parts, fmt.Sprintf(`"%s": {%s}`, typ, strings.Join(groups[typ], ",")))
		}
	}
	ping = []byte(`{"ping_info": {"seq": 1, "start_time": "2026-11-22T10:00:00.000+00:00", "end_time": "2026-11-22T11:00:00.000+00:00"},` +
		` "client_info": {"client_id": "2b4e6a8c-1111-4222-8333-444455556666", "os": "Linux", "app_display_version": "1.0"},` +
		` "metrics": {` + strings.Join(parts, ",") + `}}`)
	return registryYAML, ping, nil
}
