package rights

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// Receipt is the signed account of an erasure: which systems did what,
// with counts and times. It names the request and the subject's keyed
// hash, not the person.
type Receipt struct {
	Version     int           `json:"version"`
	RequestID   string        `json:"request_id"`
	Type        string        `json:"type"`
	Subject     string        `json:"subject_key"`
	Received    time.Time     `json:"received_at"`
	CompletedAt time.Time     `json:"completed_at"`
	Steps       []ReceiptStep `json:"steps"`
}

// ReceiptStep is one connector's work in one phase.
type ReceiptStep struct {
	System string `json:"system"`
	// Label names the system for the person (its connector's label), so
	// the receipt reads without knowing steward's configuration.
	Label      string    `json:"label,omitempty"`
	Phase      string    `json:"phase"`
	Done       string    `json:"done"`
	Count      int64     `json:"count"`
	FinishedAt time.Time `json:"finished_at"`
}

// SignedReceipt is the stored form: the receipt's exact bytes, the
// Ed25519 signature over them and the public key that checks it.
type SignedReceipt struct {
	Receipt   json.RawMessage `json:"receipt"`
	Signature string          `json:"signature"`
	PublicKey string          `json:"public_key"`
}

// SigningKey derives the receipt key from the server's hashing key, so
// every node signs alike and no second secret needs keeping.
func SigningKey(k *minimise.Keyer) ed25519.PrivateKey {
	return k.SigningKey("dsr-receipt-signing-key")
}

func (s *Service) receipt(ctx context.Context, r store.Request) (string, error) {
	steps, err := s.Store.RequestSteps(ctx, r.ID)
	if err != nil {
		return "", err
	}
	rc := Receipt{Version: 1, RequestID: r.ID, Type: r.Type, Subject: r.SubjectKey, Received: r.CreatedAt, CompletedAt: s.Clock.Now().UTC()}
	for _, st := range steps {
		if st.Connector == markerConnector {
			continue
		}
		rc.Steps = append(rc.Steps, ReceiptStep{System: st.Connector, Label: s.Label(st.Connector), Phase: st.Phase, Done: st.Detail, Count: st.Count, FinishedAt: st.FinishedAt})
	}
	return SignReceipt(SigningKey(s.Keyer), rc), nil
}

// SignReceipt signs rc with key and returns the stored form.
func SignReceipt(key ed25519.PrivateKey, rc Receipt) string {
	body, _ := json.Marshal(rc)
	signed := SignedReceipt{
		Receipt:   body,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, body)),
		PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
	}
	out, _ := json.Marshal(signed)
	return string(out)
}

// VerifyReceipt checks a stored receipt's signature against the expected
// public key (nil: the key it carries, which only shows it is intact) and
// returns the receipt.
func VerifyReceipt(stored string, want ed25519.PublicKey) (Receipt, error) {
	var sr SignedReceipt
	if err := json.Unmarshal([]byte(stored), &sr); err != nil {
		return Receipt{}, errors.New("the receipt is not valid JSON")
	}
	pub, err1 := base64.StdEncoding.DecodeString(sr.PublicKey)
	sig, err2 := base64.StdEncoding.DecodeString(sr.Signature)
	if err1 != nil || err2 != nil || len(pub) != ed25519.PublicKeySize {
		return Receipt{}, errors.New("the receipt's key or signature is malformed")
	}
	if want != nil && !want.Equal(ed25519.PublicKey(pub)) {
		return Receipt{}, errors.New("the receipt was signed with another key than this server's")
	}
	if !ed25519.Verify(pub, sr.Receipt, sig) {
		return Receipt{}, errors.New("the receipt's signature does not match its content: it was altered")
	}
	var rc Receipt
	if err := json.Unmarshal(sr.Receipt, &rc); err != nil {
		return Receipt{}, fmt.Errorf("the signed receipt does not parse: %v", err)
	}
	return rc, nil
}

// ReceiptSigner is the base64 public key a stored receipt says signed it
// ("" if it does not parse).
func ReceiptSigner(stored string) string {
	var sr SignedReceipt
	_ = json.Unmarshal([]byte(stored), &sr)
	return sr.PublicKey
}

// ReceiptPublicKey is the key that checks this server's receipts, base64.
func (s *Service) ReceiptPublicKey() string {
	return base64.StdEncoding.EncodeToString(SigningKey(s.Keyer).Public().(ed25519.PublicKey))
}

// VerifiedReceipt returns a done request's receipt after checking its
// signature against this server's key.
func (s *Service) VerifiedReceipt(ctx context.Context, id string) (Receipt, string, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return Receipt{}, "", err
	}
	if r.Receipt == "" {
		return Receipt{}, "", fmt.Errorf("request %s has no receipt (it is %s)", id, Status(r.Status).Words())
	}
	var sr SignedReceipt
	_ = json.Unmarshal([]byte(r.Receipt), &sr)
	rc, err := VerifyReceipt(r.Receipt, SigningKey(s.Keyer).Public().(ed25519.PublicKey))
	return rc, string(sr.Receipt), err
}

// ReceiptFormat names the downloadable receipt's layout (ReceiptFile).
const ReceiptFormat = "steward-erasure-receipt/1"

// ReceiptKeyPath is where every node publishes the key that checks its
// receipts, as PEM (SubjectPublicKeyInfo, which openssl reads); the same
// path with .jwk instead of .pem serves it as a JSON Web Key.
const ReceiptKeyPath = "/.well-known/steward-receipt-key.pem"

// ReceiptFile is the signed receipt as the person downloads and keeps it.
// The signed bytes travel base64-encoded, so they come out of the file
// exactly as signed with any JSON reader, or with grep and base64 alone
// (docs/requests.md shows the openssl check); decoded, they are the
// receipt's JSON.
type ReceiptFile struct {
	Format string `json:"format"`
	// Receipt is base64 of the receipt's JSON, the exact bytes signed.
	Receipt string `json:"receipt"`
	// Signature is base64 of the Ed25519 signature of those bytes.
	Signature string `json:"signature"`
	// PublicKey is base64 of the raw key that signed: a verifier checks
	// it is the published one (KeyURL), never trusts it alone.
	PublicKey string `json:"public_key"`
	KeyURL    string `json:"key_url,omitempty"`
}

// ReceiptDownload returns a done erasure's signed receipt as a file, if
// token is the request's status token.
func (s *Service) ReceiptDownload(ctx context.Context, id, token string) (store.Request, []byte, error) {
	r, _, err := s.View(ctx, id, token)
	if err != nil {
		return r, nil, err
	}
	if r.Receipt == "" {
		return r, nil, fmt.Errorf("%w: this request has no receipt yet; it comes when the erasure is done", ErrNotReady)
	}
	file, err := ReceiptFileOf(r.Receipt, s.Config.PublicURL+ReceiptKeyPath)
	if err != nil {
		return r, nil, fmt.Errorf("request %s: %w", r.ID, err)
	}
	return r, file, nil
}

// ReceiptFileOf turns a stored receipt into the file a person keeps;
// keyURL says where the key that checks it is published.
func ReceiptFileOf(stored, keyURL string) ([]byte, error) {
	var sr SignedReceipt
	if err := json.Unmarshal([]byte(stored), &sr); err != nil {
		return nil, fmt.Errorf("stored receipt: %w", err)
	}
	f := ReceiptFile{Format: ReceiptFormat, Receipt: base64.StdEncoding.EncodeToString(sr.Receipt),
		Signature: sr.Signature, PublicKey: sr.PublicKey, KeyURL: keyURL}
	b, _ := json.MarshalIndent(f, "", "  ")
	return append(b, '\n'), nil
}

// VerifyReceiptFile checks a downloaded receipt against the published
// public key and returns what it says, with the exact signed JSON. It
// needs nothing of the server: anyone holding the two files can run it.
func VerifyReceiptFile(file []byte, pub ed25519.PublicKey) (Receipt, []byte, error) {
	var f ReceiptFile
	if err := json.Unmarshal(file, &f); err != nil {
		return Receipt{}, nil, errors.New("the receipt file is not JSON; give the file downloaded from the request's page")
	}
	if f.Format != ReceiptFormat {
		return Receipt{}, nil, fmt.Errorf("the file is not a steward erasure receipt (format %q, want %q)", f.Format, ReceiptFormat)
	}
	body, err1 := base64.StdEncoding.DecodeString(f.Receipt)
	sig, err2 := base64.StdEncoding.DecodeString(f.Signature)
	carried, err3 := base64.StdEncoding.DecodeString(f.PublicKey)
	if err1 != nil || err2 != nil || err3 != nil || len(sig) != ed25519.SignatureSize {
		return Receipt{}, nil, errors.New("the receipt's content, signature or key is not valid base64 of the right length")
	}
	if len(carried) == ed25519.PublicKeySize && !pub.Equal(ed25519.PublicKey(carried)) {
		return Receipt{}, nil, errors.New("the receipt was signed with another key than the one given: check that the key is this organisation's")
	}
	if !ed25519.Verify(pub, body, sig) {
		return Receipt{}, nil, errors.New("the signature does not match the receipt: it was altered, or signed with another key")
	}
	var rc Receipt
	if err := json.Unmarshal(body, &rc); err != nil {
		return Receipt{}, nil, fmt.Errorf("the signed receipt does not parse: %v", err)
	}
	return rc, body, nil
}

// ReceiptKey is the public half of this server's receipt key.
func (s *Service) ReceiptKey() ed25519.PublicKey {
	return SigningKey(s.Keyer).Public().(ed25519.PublicKey)
}

// PublicKeyPEM encodes an Ed25519 public key as PEM SubjectPublicKeyInfo.
func PublicKeyPEM(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an ed25519.PublicKey always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// PublicKeyJWK encodes an Ed25519 public key as a JSON Web Key (RFC 8037).
func PublicKeyJWK(pub ed25519.PublicKey) []byte {
	b, _ := json.MarshalIndent(map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(pub)}, "", "  ")
	return append(b, '\n')
}

// ParsePublicKey reads an Ed25519 public key as PEM, as a JWK, or as the
// bare base64 key the status page shows.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	t := bytes.TrimSpace(b)
	if blk, _ := pem.Decode(t); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("the key file holds a %s, not a PUBLIC KEY", blk.Type)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the PEM public key does not parse: %v", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("the PEM public key is not an Ed25519 key")
		}
		return pub, nil
	}
	if len(t) > 0 && t[0] == '{' {
		var j struct{ Kty, Crv, X string }
		if err := json.Unmarshal(t, &j); err != nil {
			return nil, errors.New("the key file is neither PEM nor a JSON Web Key")
		}
		x, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.X, "="))
		if j.Kty != "OKP" || j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("the JSON Web Key is not an Ed25519 public key (kty OKP, crv Ed25519)")
		}
		return ed25519.PublicKey(x), nil
	}
	raw, err := base64.StdEncoding.DecodeString(string(t))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("the key is neither PEM, a JSON Web Key, nor a base64 Ed25519 key")
	}
	return ed25519.PublicKey(raw), nil
}
