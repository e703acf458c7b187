package rights

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
	System     string    `json:"system"`
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
		rc.Steps = append(rc.Steps, ReceiptStep{System: st.Connector, Phase: st.Phase, Done: st.Detail, Count: st.Count, FinishedAt: st.FinishedAt})
	}
	body, _ := json.Marshal(rc)
	key := SigningKey(s.Keyer)
	signed := SignedReceipt{
		Receipt:   body,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, body)),
		PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
	}
	out, _ := json.Marshal(signed)
	return string(out), nil
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
