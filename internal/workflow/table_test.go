package workflow

import (
	"errors"
	"strings"
	"testing"
)

// review is a made-up lifecycle shaped like the coming domains: nothing
// here knows data subject requests.
var review = MustTable("review", []State{"draft", "submitted", "approved", "returned"},
	Transition{"submit", "draft", "submitted"},
	Transition{"approve", "submitted", "approved"},
	Transition{"return", "submitted", "returned"},
	Transition{"revise", "returned", "draft"},
)

func TestTableAllowsExactlyItsTransitions(t *testing.T) {
	allowed := map[[2]string]State{
		{"draft", "submit"}:      "submitted",
		{"submitted", "approve"}: "approved",
		{"submitted", "return"}:  "returned",
		{"returned", "revise"}:   "draft",
	}
	for _, s := range review.States() {
		for _, a := range []Action{"submit", "approve", "return", "revise", "fly"} {
			to, err := review.Next(s, a)
			want, ok := allowed[[2]string{string(s), string(a)}]
			switch {
			case ok && (err != nil || to != want):
				t.Errorf("%s --%s--> %q, %v; want %s", s, a, to, err, want)
			case !ok && (err == nil || !errors.Is(err, ErrRefused)):
				t.Errorf("%s --%s--> %q allowed (%v)", s, a, to, err)
			}
		}
	}
	if !review.Final("approved") || review.Final("draft") || review.Final("nonsense") || !review.Has("returned") || review.Has("nonsense") {
		t.Error("Final/Has")
	}
	if got := review.Actions("submitted"); len(got) != 2 || got[0] != "approve" || got[1] != "return" {
		t.Errorf("actions from submitted: %v", got)
	}
	if len(review.Transitions()) != 4 || review.Entity() != "review" {
		t.Error("Transitions/Entity")
	}
}

func TestRefusedTransitionNamesFromToAndAction(t *testing.T) {
	for _, c := range []struct {
		from State
		a    Action
		want string
	}{
		{"approved", "submit", `review: cannot submit from "approved" to "submitted": "approved" is final`},
		{"draft", "approve", `review: cannot approve from "draft" to "approved": from "draft" the table allows only submit`},
		{"submitted", "fly", `review: cannot fly from "submitted": from "submitted" the table allows only approve, return`},
		{"lost", "submit", `review: cannot submit from "lost" to "submitted": "lost" is not a state of the table`},
	} {
		_, err := review.Next(c.from, c.a)
		var re *RefusedError
		if !errors.As(err, &re) || err.Error() != c.want {
			t.Errorf("%s/%s: %v\nwant %s", c.from, c.a, err, c.want)
			continue
		}
		if re.From != c.from || re.Action != c.a || re.Entity != "review" {
			t.Errorf("%s/%s: fields %+v", c.from, c.a, re)
		}
	}
	// An action that leads to different places names no single target.
	tbl := MustTable("x", []State{"a", "b", "c"}, Transition{"go", "a", "b"}, Transition{"go", "b", "c"})
	if _, err := tbl.Next("c", "go"); err == nil || strings.Contains(err.Error(), " to ") {
		t.Errorf("ambiguous target: %v", err)
	}
}

func TestMalformedTablesAreRefused(t *testing.T) {
	for name, build := range map[string]func() (*Table, error){
		"unknown state": func() (*Table, error) { return NewTable("x", []State{"a"}, Transition{"go", "a", "b"}) },
		"state twice":   func() (*Table, error) { return NewTable("x", []State{"a", "a"}) },
		"empty state":   func() (*Table, error) { return NewTable("x", []State{""}) },
		"no action":     func() (*Table, error) { return NewTable("x", []State{"a", "b"}, Transition{"", "a", "b"}) },
		"action twice": func() (*Table, error) {
			return NewTable("x", []State{"a", "b"}, Transition{"go", "a", "b"}, Transition{"go", "a", "a"})
		},
		"unknown to side": func() (*Table, error) { return NewTable("x", []State{"a"}, Transition{"go", "b", "a"}) },
	} {
		if _, err := build(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustTable did not panic")
		}
	}()
	MustTable("x", []State{"a"}, Transition{"go", "a", "b"})
}
