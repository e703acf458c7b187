package accesslog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

func testKey(t *testing.T, b byte) ed25519.PrivateKey {
	k, err := minimise.NewKeyer(bytes.Repeat([]byte{b}, minimise.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return CheckpointKey(k)
}

// The witness's copy is found whichever form it was kept in: the document,
// the webhook's body, or the e-mail's text.
func TestFindCheckpoint(t *testing.T) {
	key := testKey(t, 7)
	c := SignCheckpoint(key, 42, bytes.Repeat([]byte{0xab}, 32), time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC))
	if !c.SignedAt.Equal(time.Date(2026, 11, 22, 12, 0, 0, 123456000, time.UTC)) {
		t.Fatalf("signed at %s: want microseconds, as stored", c.SignedAt)
	}
	msgs := Witness{Email: "auditor@example.org", Webhook: "auditors"}.Messages(c)
	if len(msgs) != 2 || msgs[0].Kind != store.OutboxEmail || msgs[1].Kind != store.OutboxWebhook || msgs[0].Ref != "access-checkpoint:42" {
		t.Fatalf("messages: %+v", msgs)
	}
	pretty := strings.ReplaceAll(c.Signed, `,"`, ",\n  \"")
	for name, kept := range map[string]string{"document": c.Signed, "pretty-printed": pretty, "e-mail": msgs[0].Body, "webhook": msgs[1].Body} {
		doc, err := FindCheckpoint([]byte(kept))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := OpenCheckpoint(doc, key.Public().(ed25519.PublicKey))
		if err != nil || got.Seq != 42 || !bytes.Equal(got.Hash, c.Hash) || !got.SignedAt.Equal(c.SignedAt) {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	for _, junk := range []string{"", "hello", `{"text":"no checkpoint"}`, `[1,2]`} {
		if _, err := FindCheckpoint([]byte(junk)); err == nil {
			t.Errorf("%q: found a checkpoint", junk)
		}
	}
	if _, err := OpenCheckpoint(c.Signed, testKey(t, 8).Public().(ed25519.PublicKey)); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("under another server's key: %v", err)
	}
	if _, err := OpenCheckpoint(strings.Replace(c.Signed, `"seq":42`, `"seq":41`, 1), key.Public().(ed25519.PublicKey)); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("altered: %v", err)
	}
	// The receipt key is derived from the same hashing key under another
	// label: a receipt's signature cannot pass for a checkpoint's.
	k, _ := minimise.NewKeyer(bytes.Repeat([]byte{7}, minimise.MinKeyLen))
	seed, _ := hex.DecodeString(k.Hash("dsr-receipt-signing-key", "v1"))
	if ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize]).Public().(ed25519.PublicKey).Equal(key.Public()) {
		t.Error("the checkpoint key is the receipt key")
	}
}

func TestIndexDiff(t *testing.T) {
	e := &Entry{Seq: 1, SubjectKeys: []string{"a", "b", "b"}}
	for _, c := range []struct {
		index []string
		want  string
	}{
		{[]string{"b", "a"}, ""},
		{[]string{"a"}, "lacks its subject key b"},
		{nil, "lacks its subject key a"},
		{[]string{"a", "b", "c"}, "gives it subject key c"},
		{[]string{"a", "c"}, "lacks its subject key b"},
	} {
		if got := indexDiff(e, c.index); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("index %v: %q, want %q", c.index, got, c.want)
		}
	}
	if got := indexDiff(&Entry{}, []string{"x"}); !strings.Contains(got, "gives it subject key x") {
		t.Errorf("keyless entry with an index row: %q", got)
	}
}
