package minimise

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// maxKeyFile bounds how much of a key file is read.
const maxKeyFile = 4096

// LoadOrCreateKey returns the hashing key stored at path, creating the file
// with a new random MinKeyLen-byte key if it doesn't exist (created is then
// true). The file holds the key hex-encoded (what this function writes) or
// as raw bytes (at least MinKeyLen of them).
//
// A new file is written with mode 0600 to a temporary file, synced, then
// linked into place — so a concurrent creator's key is never overwritten,
// and the loser reads the winner's — and the directory is synced. (Where
// the file system has no hard links it is renamed into place instead.)
// Missing parent directories are created with mode 0700.
//
// On Unix, a key file that grants any permission to group or others is
// refused: anyone who can read it can reverse the hashes by trying values.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, err = readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key, err = createKeyFile(path)
	if errors.Is(err, fs.ErrExist) { // lost a race with another creator
		key, err = readKeyFile(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// LoadKey returns the hashing key stored at path and never creates one:
// a command pointed at the wrong folder must not invent a second steward.
// A missing file is an error wrapping fs.ErrNotExist.
func LoadKey(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, noKey(path)
	}
	return key, err
}

// noKey is a missing key file; it matches fs.ErrNotExist.
type noKey string

func (p noKey) Error() string { abs, _ := filepath.Abs(string(p)); return "no hashing key at " + abs }
func (noKey) Unwrap() error   { return fs.ErrNotExist }

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // keeps fs.ErrNotExist visible to the caller
	}
	defer f.Close()
	// Stat the open file, not the path: what is checked is what is read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %04o, which lets group or others read it; make it private with: chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	key, err := parseKey(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// parseKey accepts hex (white space around it ignored) or raw bytes.
func parseKey(b []byte) ([]byte, error) {
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("larger than %d bytes; not a key", maxKeyFile)
	}
	if t := bytes.TrimSpace(b); isHex(string(t)) {
		// Text that is all hex digits is hex, even if short: reading a
		// short hex string as raw bytes would quietly halve its strength.
		return decodeHexKey(string(t))
	}
	if len(b) < MinKeyLen {
		return nil, fmt.Errorf("key is %d bytes; it must be at least %d (or %d hex characters)", len(b), MinKeyLen, 2*MinKeyLen)
	}
	return bytes.Clone(b), nil
}

func createKeyFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	key := make([]byte, MinKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link, or on failure; a no-op after a rename
	err = tmp.Chmod(0o600)   // CreateTemp already uses 0600; make it explicit
	if err == nil {
		_, err = tmp.Write(append([]byte(hex.EncodeToString(key)), '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("creating key file %s: %w", path, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// No hard links here (some network and FUSE file systems).
		if err := os.Rename(tmpName, path); err != nil {
			return nil, fmt.Errorf("creating key file %s: %w", path, err)
		}
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("creating key file %s: syncing directory: %w", path, err)
	}
	return key, nil
}

// syncDir makes a new directory entry durable. Windows can't open a
// directory for syncing; its rename is durable enough there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
