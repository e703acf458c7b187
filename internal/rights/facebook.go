package rights

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SignedRequest is the verified payload of Facebook's data-deletion
// callback.
type SignedRequest struct {
	UserID   string
	IssuedAt time.Time
}

// Facebook signed_request problems; each is answered 400 with its text.
var (
	ErrSignedMalformed = errors.New("signed_request is not two base64url parts joined by a dot")
	ErrSignedAlgorithm = errors.New("signed_request algorithm must be HMAC-SHA256")
	ErrSignedSignature = errors.New("signed_request signature does not match")
	ErrSignedStale     = errors.New("signed_request is too old or from the future")
	ErrSignedNoUser    = errors.New("signed_request names no user_id")
	ErrSignedUserID    = errors.New("signed_request user_id is not a Facebook user id: it must be digits only, at most 64 of them")
)

// ParseSignedRequest verifies a signed_request: the signature is the
// HMAC-SHA256, under the app secret, of the payload exactly as encoded;
// it is compared in constant time before the payload is trusted for
// anything, and issued_at must lie within maxAge of now (a minute of
// clock skew allowed ahead).
func ParseSignedRequest(signed, appSecret string, now time.Time, maxAge time.Duration) (SignedRequest, error) {
	sigPart, payloadPart, ok := strings.Cut(strings.TrimSpace(signed), ".")
	if !ok || sigPart == "" || payloadPart == "" || strings.Contains(payloadPart, ".") {
		return SignedRequest{}, ErrSignedMalformed
	}
	sig, err1 := b64url(sigPart)
	payload, err2 := b64url(payloadPart)
	if err1 != nil || err2 != nil {
		return SignedRequest{}, ErrSignedMalformed
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(payloadPart))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return SignedRequest{}, ErrSignedSignature
	}
	var p struct {
		Algorithm string          `json:"algorithm"`
		IssuedAt  json.Number     `json:"issued_at"`
		UserID    json.RawMessage `json:"user_id"`
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return SignedRequest{}, fmt.Errorf("%w: payload is not JSON", ErrSignedMalformed)
	}
	if !strings.EqualFold(p.Algorithm, "HMAC-SHA256") {
		return SignedRequest{}, ErrSignedAlgorithm
	}
	issued, err := p.IssuedAt.Int64()
	if err != nil {
		return SignedRequest{}, fmt.Errorf("%w: issued_at missing", ErrSignedStale)
	}
	at := time.Unix(issued, 0)
	if now.Sub(at) > maxAge || at.Sub(now) > time.Minute {
		return SignedRequest{}, ErrSignedStale
	}
	// user_id arrives as a string (or, from some SDKs, a number).
	var user string
	if json.Unmarshal(p.UserID, &user) != nil {
		var n json.Number
		if json.Unmarshal(p.UserID, &n) == nil {
			user = n.String()
		}
	}
	if user == "" {
		return SignedRequest{}, ErrSignedNoUser
	}
	if len(user) > 64 || strings.ContainsFunc(user, func(r rune) bool { return r < '0' || r > '9' }) {
		return SignedRequest{}, ErrSignedUserID
	}
	return SignedRequest{UserID: user, IssuedAt: at.UTC()}, nil
}

// b64url decodes base64url with or without padding.
func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// SignRequest builds a signed_request the way Facebook does; tests and
// `steward` documentation examples use it.
func SignRequest(payload any, appSecret string) string {
	b, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding.EncodeToString(b)
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(enc))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + enc
}
