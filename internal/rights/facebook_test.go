package rights

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSignedRequest(t *testing.T) {
	const secret = "app-secret"
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	good := map[string]any{"algorithm": "HMAC-SHA256", "issued_at": now.Add(-time.Minute).Unix(), "user_id": "1234567890"}
	sr, err := ParseSignedRequest(SignRequest(good, secret), secret, now, time.Hour)
	if err != nil || sr.UserID != "1234567890" {
		t.Fatalf("valid: %+v %v", sr, err)
	}
	// Padded base64url is accepted too.
	signed := SignRequest(good, secret)
	sig, payload, _ := strings.Cut(signed, ".")
	padded := sig + strings.Repeat("=", (4-len(sig)%4)%4) + "." + payload
	if _, err := ParseSignedRequest(padded, secret, now, time.Hour); err != nil {
		t.Fatalf("padded: %v", err)
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		m[k] = v
		return m
	}
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"algorithm":"HMAC-SHA256","issued_at":1795348740,"user_id":"666"}`))
	for _, c := range []struct {
		name, signed string
		want         error
	}{
		{"wrong secret", SignRequest(good, "other"), ErrSignedSignature},
		{"payload swapped", sig + "." + forgedPayload, ErrSignedSignature},
		{"wrong algorithm", SignRequest(with("algorithm", "HMAC-MD5"), secret), ErrSignedAlgorithm},
		{"no algorithm", SignRequest(with("algorithm", ""), secret), ErrSignedAlgorithm},
		{"expired", SignRequest(with("issued_at", now.Add(-2*time.Hour).Unix()), secret), ErrSignedStale},
		{"future", SignRequest(with("issued_at", now.Add(time.Hour).Unix()), secret), ErrSignedStale},
		{"no issued_at", SignRequest(with("issued_at", nil), secret), ErrSignedStale},
		{"no user", SignRequest(with("user_id", ""), secret), ErrSignedNoUser},
		{"odd user", SignRequest(with("user_id", "12; DROP"), secret), ErrSignedUserID},
		{"long user", SignRequest(with("user_id", strings.Repeat("1", 65)), secret), ErrSignedUserID},
		{"user as an object", SignRequest(with("user_id", map[string]any{"id": 1}), secret), ErrSignedNoUser},
		{"no dot", "abc", ErrSignedMalformed},
		{"three parts", "a.b.c", ErrSignedMalformed},
		{"not base64", "!!!.???", ErrSignedMalformed},
		{"empty", "", ErrSignedMalformed},
	} {
		if _, err := ParseSignedRequest(c.signed, secret, now, time.Hour); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
