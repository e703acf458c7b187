package auth

import (
	"strings"
	"testing"
)

var cheap = Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash format %q", h)
	}
	if ok, err := CheckPassword(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := CheckPassword(h, "correct horse batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse battery", cheap)
	if h2 == h {
		t.Fatal("salt not random")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$aa$bb", "$argon2id$v=19$m=x$aa$bb", "$argon2id$v=19$m=1024,t=1,p=1$!!$bb"} {
		if ok, err := CheckPassword(bad, "whatever password"); ok || err == nil {
			t.Errorf("malformed hash %q: ok=%v err=%v", bad, ok, err)
		}
	}
	for _, weak := range []string{"short", strings.Repeat("x", MaxPasswordLen+1)} {
		if _, err := HashPassword(weak, cheap); err != ErrWeakPassword {
			t.Errorf("weak password %d chars: %v", len(weak), err)
		}
	}
}

func BenchmarkHashPasswordDefault(b *testing.B) {
	for b.Loop() {
		HashPassword("correct horse battery", DefaultArgon2)
	}
}
