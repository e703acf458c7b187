package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/incident"
)

// BenchmarkIncidentRegister opens the register's first page (25 rows, each
// with its clocks) among 1000 incidents, as an incident manager over
// loopback HTTP: session, the store's list, the access-log entry of the
// read and the page rendered.
func BenchmarkIncidentRegister(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
	ctx := context.Background()
	a := incident.Actor{Name: "im@staff.example.org", Role: auth.IncidentManager, Method: "password", Credential: "bench"}
	for i := range 1000 {
		if _, err := n.srv.Incidents.OpenByHand(ctx, a, incident.OpenInput{Title: fmt.Sprintf("Lost laptop %d", i), Dataset: "interaction_data"}); err != nil {
			b.Fatal(err)
		}
	}
	im := signIn(b, n, auth.IncidentManager)
	b.ResetTimer()
	for b.Loop() {
		if st, body, _ := im.get("/admin/incidents?state=open"); st != 200 || strings.Count(body, "72h 00m left") != 25 {
			b.Fatalf("%d, %d clocks", st, strings.Count(body, "72h 00m left"))
		}
	}
}

// BenchmarkIncidentPage opens one incident with 200 timeline lines, as the
// manager does from the detection e-mail.
func BenchmarkIncidentPage(b *testing.B) {
	n := startNode(b, testConfig(b, ""))
	ctx := context.Background()
	a := incident.Actor{Name: "im@staff.example.org", Role: auth.IncidentManager, Method: "password", Credential: "bench"}
	inc, err := n.srv.Incidents.OpenByHand(ctx, a, incident.OpenInput{Title: "Misdirected e-mail", Dataset: "interaction_data"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 198 {
		if _, err := n.srv.Incidents.Act(ctx, inc.ID, a, incident.ActInput{Action: "note", Note: fmt.Sprintf("finding %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	im := signIn(b, n, auth.IncidentManager)
	path := fmt.Sprintf("/admin/incidents/%d", inc.ID)
	b.ResetTimer()
	for b.Loop() {
		if st, body, _ := im.get(path); st != 200 || !strings.Contains(body, "finding 197") {
			b.Fatalf("%d", st)
		}
	}
}
