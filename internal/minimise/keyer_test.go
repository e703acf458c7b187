package minimise

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func seqKey(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func mustKeyer(t testing.TB, key []byte) *Keyer {
	t.Helper()
	k, err := NewKeyer(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Known answers, computed independently (Python's hmac module), pin the
// exact construction: other nodes and stored hashes depend on it.
func TestKeyerKnownAnswer(t *testing.T) {
	k := mustKeyer(t, seqKey(32))
	if got, want := k.Hash("subject", "alice"), "070d1aed5c04286e49536e3bc413efa240726dba92d8863af38a77b1ae40e1d3"; got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
	if got, want := k.Fingerprint(), "68e1a5b8f15f9d37"; got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
}

func TestKeyerDeterministicAndSeparated(t *testing.T) {
	k := mustKeyer(t, seqKey(32))
	k2 := mustKeyer(t, seqKey(32))
	other := mustKeyer(t, seqKey(33))

	a := k.Hash("subject", "alice")
	if len(a) != 64 || strings.ToLower(a) != a {
		t.Fatalf("hash %q is not 64 lower-case hex characters", a)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		x, y      string
		wantEqual bool
	}{
		{"same input twice", k.Hash("subject", "alice"), a, true},
		{"another keyer, same key", k2.Hash("subject", "alice"), a, true},
		{"other value", k.Hash("subject", "bob"), a, false},
		{"other domain", k.Hash("interaction_data", "alice"), a, false},
		{"other key", other.Hash("subject", "alice"), a, false},
		{"separator matters", k.Hash("ab", "c"), k.Hash("a", "bc"), false},
		{"empty parts", k.Hash("", "subject"), k.Hash("subject", ""), false},
	}
	for _, tt := range tests {
		if (tt.x == tt.y) != tt.wantEqual {
			t.Errorf("%s: equal = %v, want %v", tt.name, tt.x == tt.y, tt.wantEqual)
		}
	}
	if k.Fingerprint() != k2.Fingerprint() || k.Fingerprint() == other.Fingerprint() {
		t.Error("fingerprints must match for equal keys and differ for different ones")
	}
	if len(k.Fingerprint()) != 16 {
		t.Errorf("fingerprint %q is not 16 characters", k.Fingerprint())
	}
}

func TestKeyerCopiesKey(t *testing.T) {
	key := seqKey(32)
	k := mustKeyer(t, key)
	before := k.Hash("d", "v")
	key[0] ^= 0xff
	if k.Hash("d", "v") != before {
		t.Error("changing the caller's slice changed the Keyer")
	}
}

func TestKeyerLargeValues(t *testing.T) {
	k := mustKeyer(t, seqKey(32))
	big := strings.Repeat("x", 10_000)
	h1 := k.Hash("d", big)
	small := k.Hash("d", "v") // after a large value, the pooled buffer is not reused wrongly
	if k.Hash("d", big) != h1 || k.Hash("d", "v") != small {
		t.Error("hash changed between calls")
	}
}

func TestKeyerConcurrent(t *testing.T) {
	k := mustKeyer(t, seqKey(32))
	want := make([]string, 100)
	for i := range want {
		want[i] = k.Hash("subject", fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for n := range 2000 {
				i := n % len(want)
				if got := k.Hash("subject", fmt.Sprint(i)); got != want[i] {
					t.Errorf("concurrent Hash(%d) = %s, want %s", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyerTooShort(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31} {
		if _, err := NewKeyer(seqKey(n)); err == nil {
			t.Errorf("NewKeyer accepted a %d-byte key", n)
		}
	}
	if _, err := NewKeyer(seqKey(64)); err != nil {
		t.Errorf("NewKeyer(64 bytes): %v", err)
	}
}

func TestKeyerNeverPrintsKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k := mustKeyer(t, key)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "keyer", k)
	outs := []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), logged.String()}
	for _, out := range outs {
		if strings.Contains(out, "0123456789abcdef") || strings.Contains(out, hex.EncodeToString(key)[:20]) {
			t.Errorf("key printed: %s", out)
		}
	}
	if !strings.Contains(outs[0], k.Fingerprint()) {
		t.Errorf("String() = %q should show the fingerprint", outs[0])
	}
}

func TestKeyFromString(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	secret := "zz" + strings.Repeat("cd", 40)
	tests := []struct {
		name    string
		in      string
		wantLen int // 0: error
	}{
		{"64 hex", hex64, 32},
		{"upper case", strings.ToUpper(hex64), 32},
		{"longer", hex64 + "0011", 34},
		{"white space", "  " + hex64 + "\n", 32},
		{"too short", hex64[:62], 0},
		{"odd", hex64 + "a", 0},
		{"not hex", secret, 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := KeyFromString(tt.in)
			if tt.wantLen == 0 {
				if err == nil {
					t.Fatalf("accepted %q", tt.in)
				}
				if tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)[:8]) {
					t.Errorf("error quotes the secret: %v", err)
				}
				if strings.Contains(err.Error(), "'z'") {
					t.Errorf("error quotes a character of the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(key) != tt.wantLen {
				t.Errorf("key is %d bytes, want %d", len(key), tt.wantLen)
			}
		})
	}
}

func TestLoadOrCreateKeyCreatesAndReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "secret.key")
	key, created, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != MinKeyLen {
		t.Fatalf("created = %v, %d bytes; want a new %d-byte key", created, len(key), MinKeyLen)
	}
	if bytes.Equal(key, make([]byte, MinKeyLen)) {
		t.Fatal("new key is all zeros")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != hex.EncodeToString(key) {
		t.Errorf("file holds %q, want the key in hex", b)
	}
	again, created, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Errorf("reload: created = %v, same key = %v; want false, true", created, bytes.Equal(again, key))
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key file", names)
	}
	// A second create elsewhere makes a different key.
	other, _, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, key) {
		t.Error("two new keys are equal")
	}
}

func TestLoadOrCreateKeyConcurrentCreatorsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = LoadOrCreateKey(path) })
	}
	wg.Wait()
	onDisk, _, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], onDisk) {
			t.Errorf("creator %d got a key that is not the one on disk", i)
		}
	}
}

func TestLoadOrCreateKeyFormats(t *testing.T) {
	raw := seqKey(40)
	hexKey := strings.Repeat("0f", 32)
	tests := []struct {
		name    string
		content []byte
		want    []byte // nil: error
		errHas  string
	}{
		{"hex with newline", []byte(hexKey + "\n"), bytes.Repeat([]byte{0x0f}, 32), ""},
		{"raw bytes", raw, raw, ""},
		{"empty", nil, nil, "at least"},
		{"short raw", seqKey(20)[5:], nil, "at least"},
		{"short hex", []byte(strings.Repeat("ab", 20) + "\n"), nil, "hex characters"},
		{"odd hex", []byte(hexKey + "a"), nil, "odd"},
		{"too large", bytes.Repeat([]byte{1}, maxKeyFile+1), nil, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			key, created, err := LoadOrCreateKey(path)
			if created {
				t.Error("created a key although a file exists")
			}
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted %q", tt.content)
				}
				if !strings.Contains(err.Error(), tt.errHas) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q should name the file and mention %q", err, tt.errHas)
				}
				if b, _ := os.ReadFile(path); !bytes.Equal(b, tt.content) {
					t.Error("a bad key file was overwritten")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(key, tt.want) {
				t.Errorf("key = %x, want %x", key, tt.want)
			}
		})
	}
}

func TestLoadOrCreateKeyRefusesOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			content := []byte(strings.Repeat("ab", 32) + "\n")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateKey(path)
			if err == nil {
				t.Fatal("accepted a key file others can read")
			}
			if !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode)) {
				t.Errorf("error should give the mode and the fix: %v", err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, content) {
				t.Error("refused key file was modified")
			}
		})
	}
	// 0400 is fine.
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte(strings.Repeat("ab", 32)), 0o400); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(path); err != nil {
		t.Errorf("0400 key file refused: %v", err)
	}
}

func TestLoadOrCreateKeyNotAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(dir); err == nil {
		t.Error("accepted a directory as a key file")
	}
}

func TestLoadOrCreateKeyFollowsSymlinkChecksTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "real.key")
	if err := os.WriteFile(target, []byte(strings.Repeat("ab", 32)), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "secret.key")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if _, _, err := LoadOrCreateKey(link); err == nil {
		t.Error("a link to a world-readable key was accepted")
	}
	if err := os.Chmod(target, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(link); err != nil {
		t.Errorf("link to a private key refused: %v", err)
	}
}
