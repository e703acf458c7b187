package subject

import (
	"slices"
	"testing"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
)

func keyer(t testing.TB) *minimise.Keyer {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	k, err := minimise.NewKeyer(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNormalise(t *testing.T) {
	for _, c := range []struct {
		kind     Identifier
		in, want string
	}{
		{Email, "Dave@Example.org", "dave@example.org"},
		{Email, " \tdave@example.org\n", "dave@example.org"},
		{Email, "dave@example.org", "dave@example.org"},
		// Tags and dots name other mailboxes at many providers: kept.
		{Email, "Dave.Smith+News@Example.org", "dave.smith+news@example.org"},
		{Email, "ÉLOÏSE@Exemple.fr", "éloïse@exemple.fr"},
		{Email, "   ", ""},
		{UUID, "7F1D5A3E-0C1B-4F7E-9A51-3B2D6F1E8C90", "7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90"},
		{UUID, " 7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90 ", "7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90"},
		// Opaque ids may be case-sensitive: only trimmed.
		{Opaque, " Acct-1 ", "Acct-1"},
		{Opaque, "Acct-1", "Acct-1"},
		{Opaque, "a b", "a b"},
		{Opaque, "\u00a0acct-1\u2003", "acct-1"},
		{Opaque, "", ""},
	} {
		if got := Normalise(c.kind, c.in); got != c.want {
			t.Errorf("Normalise(%s, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
	}
}

// A normalised identifier keeps the key it always had: the known answer
// of minimise's keyer for "alice" under the test key.
func TestKeyUnchangedForNormalisedIdentifiers(t *testing.T) {
	k := keyer(t)
	const alice = "070d1aed5c04286e49536e3bc413efa240726dba92d8863af38a77b1ae40e1d3"
	for _, kind := range []Identifier{Opaque, Email, UUID} {
		if got := Key(k, kind, "alice"); got != alice {
			t.Errorf("%s: Key(alice) = %s, want %s", kind, got, alice)
		}
	}
	if Key(k, Email, " Alice ") != alice || Key(k, Opaque, " alice ") != alice {
		t.Error("spellings of alice do not share her key")
	}
	if Key(k, Opaque, "Alice") == alice {
		t.Error("an opaque id was case-folded")
	}
	if Key(k, Email, " ") != "" || Keys(k, Email, "") != nil || AnyKeys(k, "\t") != nil {
		t.Error("a blank identifier has a key")
	}
}

func TestKeys(t *testing.T) {
	k := keyer(t)
	h := func(s string) string { return k.Hash("subject", s) }
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"normalised e-mail", Keys(k, Email, "dave@example.org"), []string{h("dave@example.org")}},
		{"mixed case e-mail", Keys(k, Email, "Dave@Example.org"), []string{h("dave@example.org"), h("Dave@Example.org")}},
		{"padded opaque id", Keys(k, Opaque, " u1"), []string{h("u1"), h(" u1")}},
		{"opaque id", Keys(k, Opaque, "U1"), []string{h("U1")}},
		// A case-sensitive id is not folded onto another's.
		{"any kind, opaque", AnyKeys(k, " U1"), []string{h("U1"), h(" U1")}},
		{"any kind, normalised", AnyKeys(k, "u1"), []string{h("u1")}},
		{"any kind, a UUID", AnyKeys(k, "7F1D5A3E-0C1B-4F7E-9A51-3B2D6F1E8C90"),
			[]string{h("7F1D5A3E-0C1B-4F7E-9A51-3B2D6F1E8C90"), h("7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90")}},
		{"any kind, not quite a UUID", AnyKeys(k, "7F1D5A3E-0C1B-4F7E-9A51-3B2D6F1E8C9G"), []string{h("7F1D5A3E-0C1B-4F7E-9A51-3B2D6F1E8C9G")}},
		{"any kind, an e-mail address", AnyKeys(k, " Dave@Example.org"),
			[]string{h("Dave@Example.org"), h(" Dave@Example.org"), h("dave@example.org")}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestKinds(t *testing.T) {
	reg, probs := registry.Parse([]byte(`controller: {name: X, contact: x@example.org}
datasets:
  accounts:
    description: d
    purpose: p
    lawful_basis: contract
    retention: 10d
    owner: o@example.org
    expires: never
    subject: {field: email, kind: direct, identifier: email}
    fields:
      email:   {type: string, category: 2, minimise: {hash: true}}
      device:  {type: uuid, category: 2, minimise: {hash: true}}
      account: {type: string, category: 2}
  clients:
    description: d
    purpose: p
    lawful_basis: contract
    retention: 10d
    owner: o@example.org
    expires: never
    subject: {field: client_id, kind: pseudonymous}
    fields:
      client_id: {type: uuid, category: 2}
  logins:
    description: d
    purpose: p
    lawful_basis: contract
    retention: 10d
    owner: o@example.org
    expires: never
    subject: {field: login, kind: direct}
    fields:
      login: {type: string, category: 2}
  anonymous:
    description: d
    purpose: p
    lawful_basis: contract
    retention: 10d
    owner: o@example.org
    expires: never
    fields:
      n: {type: integer, category: 1}
`), "r.yaml")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for name, want := range map[string]Identifier{"accounts": Email, "clients": UUID, "logins": Opaque, "anonymous": Opaque} {
		if got := Of(reg.Dataset(name)); got != want {
			t.Errorf("Of(%s) = %s, want %s", name, got, want)
		}
	}
	acc := reg.Dataset("accounts")
	for field, want := range map[string]Identifier{"email": Email, "device": UUID, "account": Opaque} {
		if got := ForField(acc, acc.Field(field)); got != want {
			t.Errorf("ForField(%s) = %s, want %s", field, got, want)
		}
	}
	if Text(int64(42)) != "42" || Text("x") != "x" {
		t.Error("Text")
	}
}

func BenchmarkKey(b *testing.B) {
	k := keyer(b)
	for b.Loop() {
		Key(k, UUID, "3f1c2a9e-6b1d-4c2e-9a7f-0d5e8b7c6a21")
	}
}
