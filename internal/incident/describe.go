package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/steward-privacy/steward/internal/store"
)

// DescribeInput is what a person writes into the reports: the likely
// consequences and the measures taken or proposed (Art. 33(3)(c), (d)),
// and, when the authority is told late, the reasons for the delay
// (Art. 33(1)). A nil field is left as it is; "" clears it.
type DescribeInput struct {
	Consequences *string
	Measures     *string
	Delay        *string
	// Version, when non-zero, is the version the person read.
	Version int64
}

// MaxDescription bounds each text of DescribeInput.
const MaxDescription = 20000

// delayPrefix starts the history note that records reasons for delay;
// the report takes the newest (there is no column of its own, and the
// history keeps every earlier version).
const delayPrefix = "reasons for the delay (Art. 33(1)): "

// Describe stores consequences, measures and reasons for delay, with a
// history line and an access-log entry in one transaction.
func (s *Service) Describe(ctx context.Context, id int64, a Actor, in DescribeInput) (store.Incident, error) {
	if !slices.Contains(Managers, a.Role) {
		return store.Incident{}, fmt.Errorf("%w: role %s may not describe incidents", ErrForbidden, a.Role)
	}
	if in.Consequences == nil && in.Measures == nil && in.Delay == nil {
		return store.Incident{}, invalid("give consequences, measures or delay_reasons")
	}
	in.Consequences, in.Measures, in.Delay = trimmed(in.Consequences), trimmed(in.Measures), trimmed(in.Delay)
	for _, f := range []struct {
		name string
		v    *string
	}{{"consequences", in.Consequences}, {"measures", in.Measures}, {"delay_reasons", in.Delay}} {
		if f.v == nil {
			continue
		}
		if !utf8.ValidString(*f.v) {
			return store.Incident{}, invalid("%s: not valid UTF-8", f.name)
		}
		if len(*f.v) > MaxDescription {
			return store.Incident{}, invalid("%s: at most %d characters", f.name, MaxDescription)
		}
	}
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return inc, err
	}
	if in.Version != 0 && in.Version != inc.Version {
		return inc, store.ErrConflict
	}
	var said []string
	if in.Consequences != nil && *in.Consequences != inc.Consequences {
		inc.Consequences = *in.Consequences
		said = append(said, described("likely consequences (Art. 33(3)(c))", inc.Consequences))
	}
	if in.Measures != nil && *in.Measures != inc.Measures {
		inc.Measures = *in.Measures
		said = append(said, described("measures taken or proposed (Art. 33(3)(d))", inc.Measures))
	}
	if in.Delay != nil {
		if *in.Delay == "" {
			return inc, invalid("delay_reasons: say why the authority is told after 72 hours; earlier reasons stay in the history")
		}
		said = append(said, delayPrefix+*in.Delay)
	}
	if len(said) == 0 {
		return inc, nil // nothing changed: no history line for a repeat
	}
	now := s.now()
	note := strings.Join(said, "\n")
	return s.machine().NoteAlso(ctx, inc, a.Name, note, func(ctx context.Context, tx store.Tx, i *store.Incident) error {
		return appendEntries(ctx, tx, actionEntry(now, a, *i, "described for the reports"))
	})
}

func described(what, text string) string {
	if text == "" {
		return what + ": cleared"
	}
	return what + ": " + text
}

// trimmed copies, so the caller's strings stay as they were.
func trimmed(p *string) *string {
	if p == nil {
		return nil
	}
	t := strings.TrimSpace(*p)
	return &t
}
