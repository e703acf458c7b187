package notify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// Secrets in outbox messages.
//
// Some messages carry secrets: a link with a request's status token (it
// opens the status page and the access archive) or with a confirmation
// code. The outbox must hold them until the message is sent, but a copy of
// the database must not be enough to use them. So the text keeps a
// placeholder, ⟦name⟧, where each secret goes, and the values are sealed
// (AES-256-GCM) into the row's SealedSecrets, under a key derived from the
// hashing key, which is not in the database. The worker opens them just
// before sending, and the store drops them once the message is sent or
// given up.
//
// Sealing only the secrets rather than the whole body keeps every message
// readable (in the portal, in the history, to an operator looking into a
// delivery) at every stage, without ever holding a secret in clear; and
// scrubbing after delivery is dropping one column, in the same write that
// records the delivery, with no text to rewrite.

// Placeholder is what stands in a message's subject or body for the secret
// called name: a human-readable name such as "confirmation link".
func Placeholder(name string) string { return "⟦" + name + "⟧" }

// placeholderRE finds placeholders, for Redacted.
var placeholderRE = regexp.MustCompile(`⟦([^⟦⟧\n]+)⟧`)

// Redacted returns text with each placeholder shown in words: the secret's
// name and what became of it. sent is whether the message was sent or
// given up (its secrets are gone) rather than still waiting.
func Redacted(text string, sent bool) string {
	state := "sealed until sent"
	if sent {
		state = "removed after sending"
	}
	return placeholderRE.ReplaceAllString(text, "$1 ("+state+")")
}

// Defang makes text from people (a question, a reason) unable to pose as a
// placeholder, so it can never be replaced by a secret nor hide as one.
func Defang(text string) string {
	return strings.NewReplacer("⟦", "[", "⟧", "]").Replace(text)
}

// sealedVersion is the first byte of SealedSecrets: the format below.
const sealedVersion = 1

// keyIDLen is the length of the key id after the version byte: enough to
// tell "sealed under another key" from "altered", and not secret (it is
// one-way from the key).
const keyIDLen = 4

// Errors opening a message's secrets. Retrying cannot help with any of
// them: the worker gives the message up (and drops the secrets) rather
// than send it with broken links.
var (
	ErrSecretsOtherKey = errors.New("the message's secrets were sealed under another hashing key, so they cannot be opened; it is not sent")
	ErrSecretsAltered  = errors.New("the message's sealed secrets do not match it (the row was changed or damaged); it is not sent")
	ErrSecretsNoKey    = errors.New("the message has sealed secrets but this worker has no key to open them; it is not sent")
)

// Sealer seals and opens the secrets of outbox messages. Every node
// sharing a database derives the same key, because they share the hashing
// key (checked at start). It is safe for concurrent use.
type Sealer struct {
	aead  cipher.AEAD
	keyID [keyIDLen]byte
}

// NewSealer derives the sealing key from the hashing key, as the receipt
// signing key is: a value only the hashing key gives, under a label of its
// own, expanded with HKDF into the AES-256 key and the key id. No second
// secret needs keeping, and the key never enters the database.
func NewSealer(k *minimise.Keyer) *Sealer {
	prk, _ := hex.DecodeString(k.Hash("outbox-secrets", "v1"))
	key, err := hkdf.Expand(sha256.New, prk, "steward/notify/outbox-secrets/aes-256-gcm", 32)
	if err != nil {
		panic(err) // only for lengths SHA-256 cannot give
	}
	id, err := hkdf.Expand(sha256.New, prk, "steward/notify/outbox-secrets/key-id", keyIDLen)
	if err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	// A random 96-bit nonce per message, prepended by Seal: safe for 2^32
	// messages under one key, far more than an outbox sees.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic(err)
	}
	s := &Sealer{aead: aead}
	copy(s.keyID[:], id)
	return s
}

// Seal puts secrets (name → value) into m.SealedSecrets. Each name's
// Placeholder must be in m's subject or body, and no value may be there in
// clear. The ciphertext is bound to m's kind, recipient, subject, body and
// ref: moved to another message, or to an edited one, it does not open.
// With no secrets, SealedSecrets is nil.
func (s *Sealer) Seal(m *store.OutboxMessage, secrets map[string]string) error {
	m.SealedSecrets = nil
	if len(secrets) == 0 {
		return nil
	}
	for name, value := range secrets {
		switch {
		case name == "" || strings.ContainsAny(name, "⟦⟧\n"):
			return fmt.Errorf("notify: %q cannot name a secret", name)
		case value == "":
			return fmt.Errorf("notify: the secret %q is empty", name)
		case !strings.Contains(m.Subject, Placeholder(name)) && !strings.Contains(m.Body, Placeholder(name)):
			return fmt.Errorf("notify: the message has no placeholder for the secret %q", name)
		case strings.Contains(m.Subject, value) || strings.Contains(m.Body, value):
			return fmt.Errorf("notify: the secret %q is also in the message in clear", name) // never the value
		}
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return err
	}
	head := append([]byte{sealedVersion}, s.keyID[:]...)
	m.SealedSecrets = s.aead.Seal(head, nil, plain, additionalData(head, *m))
	return nil
}

// Open returns m as it is to be sent: each placeholder replaced by its
// secret (JSON-escaped in a webhook's body), and SealedSecrets nil. A
// message without secrets is returned as it is.
func (s *Sealer) Open(m store.OutboxMessage) (store.OutboxMessage, error) {
	sealed := m.SealedSecrets
	if len(sealed) == 0 {
		return m, nil
	}
	if len(sealed) < 1+keyIDLen || sealed[0] != sealedVersion {
		return m, ErrSecretsAltered
	}
	head := sealed[:1+keyIDLen]
	if string(head[1:]) != string(s.keyID[:]) {
		return m, ErrSecretsOtherKey
	}
	plain, err := s.aead.Open(nil, nil, sealed[len(head):], additionalData(head, m))
	if err != nil {
		return m, ErrSecretsAltered
	}
	var secrets map[string]string
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return m, ErrSecretsAltered
	}
	out := m
	out.SealedSecrets = nil
	for name, value := range secrets {
		out.Subject = strings.ReplaceAll(out.Subject, Placeholder(name), value)
		if m.Kind == store.OutboxWebhook {
			q, _ := json.Marshal(value)
			value = string(q[1 : len(q)-1])
		}
		out.Body = strings.ReplaceAll(out.Body, Placeholder(name), value)
	}
	return out, nil
}

// additionalData is what a message's ciphertext is bound to: the format
// head and every field that says what is sent to whom. Each is length-
// prefixed, so no two messages give the same bytes.
func additionalData(head []byte, m store.OutboxMessage) []byte {
	ad := append([]byte("steward outbox secrets\x00"), head...)
	for _, f := range []string{m.Kind, m.To, m.Subject, m.Body, m.Ref} {
		ad = binary.AppendUvarint(ad, uint64(len(f)))
		ad = append(ad, f...)
	}
	return ad
}

// Secrets in the links of mail written before sealing: a status token (43
// hex digits) and a confirmation code (39 letters and digits), exactly as
// migration 0003 recognises them in mail already sent (neither may run on
// into another letter or digit; see legacyMatch).
var legacySecretRE = regexp.MustCompile(`\?token=([0-9a-f]{43})|&code=([a-z2-9]{39})`)

// SealLegacy seals a message written before secrets were sealed, whose
// links hold the status token and confirmation code in clear: it returns
// the message with placeholders for them and its SealedSecrets, and true;
// or m and false when m holds no such secret (or is already sealed).
func (s *Sealer) SealLegacy(m store.OutboxMessage) (store.OutboxMessage, bool, error) {
	if len(m.SealedSecrets) > 0 {
		return m, false, nil
	}
	var matches [][]int
	for _, ix := range legacySecretRE.FindAllStringSubmatchIndex(m.Body, -1) {
		if end := ix[1]; end == len(m.Body) || !isAlnum(m.Body[end]) {
			matches = append(matches, ix)
		}
	}
	if len(matches) == 0 {
		return m, false, nil
	}
	secrets := map[string]string{}
	names := map[string]string{} // value → name
	var b strings.Builder
	last := 0
	for _, ix := range matches {
		start, end, what := ix[2], ix[3], "status token"
		if start < 0 {
			start, end, what = ix[4], ix[5], "confirmation code"
		}
		value := m.Body[start:end]
		name, ok := names[value]
		if !ok {
			name = what
			for i := 2; secrets[name] != ""; i++ {
				name = fmt.Sprintf("%s %d", what, i)
			}
			secrets[name], names[value] = value, name
		}
		b.WriteString(m.Body[last:start])
		b.WriteString(Placeholder(name))
		last = end
	}
	b.WriteString(m.Body[last:])
	out := m
	out.Body = b.String()
	if err := s.Seal(&out, secrets); err != nil {
		return m, false, err
	}
	return out, true, nil
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
