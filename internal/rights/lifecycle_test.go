package rights

import "testing"

// TestLifecycle walks every status × action: exactly the transitions of
// docs/requests.md ("Lifecycle") are allowed, everything else is refused
// with a reason.
func TestLifecycle(t *testing.T) {
	allowed := map[[2]string]Status{
		{"waiting_for_email_confirmation", "confirm"}: Received,
		{"waiting_for_email_confirmation", "reject"}:  Rejected,
		{"received", "take"}:                          InProgress,
		{"received", "reject"}:                        Rejected,
		{"in_progress", "ask"}:                        WaitingForUser,
		{"in_progress", "complete"}:                   Done,
		{"in_progress", "reject"}:                     Rejected,
		{"waiting_for_user_response", "answer"}:       InProgress,
		{"waiting_for_user_response", "reject"}:       Rejected,
	}
	statuses := []Status{WaitingForEmail, Received, InProgress, WaitingForUser, Done, Rejected}
	actions := []Action{Confirm, Take, Ask, Answer, Complete, Reject}
	for _, s := range statuses {
		for _, a := range actions {
			to, err := Next(s, a)
			want, ok := allowed[[2]string{string(s), string(a)}]
			switch {
			case ok && (err != nil || to != want):
				t.Errorf("%s --%s--> %s, %v; want %s", s, a, to, err, want)
			case !ok && err == nil:
				t.Errorf("%s --%s--> %s allowed", s, a, to)
			}
		}
	}
	if Done.Open() || Rejected.Open() || !Received.Open() {
		t.Error("Open")
	}
}
