package webhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The official test vector, shared by the Standard Webhooks libraries' tests (libraries/go/webhook_test.go
// TestWebhookSign, python/tests/test_webhooks.py, php/tests/WebhookTest.php, java TestScenario.validSigned).
const (
	vecSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTimestamp = 1614265330
	vecPayload   = `{"test": 2432232314}`
	vecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vecTime = time.Unix(vecTimestamp, 0)

func TestSignSpecVector(t *testing.T) {
	h, err := Sign(vecSecret, vecMsgID, vecTime, []byte(vecPayload))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"webhook-id":        vecMsgID,
		"webhook-timestamp": "1614265330",
		"webhook-signature": vecSignature,
	}
	for name, v := range want {
		if got := h.Get(name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	if len(h) != 3 {
		t.Errorf("Sign returned %d headers, want 3: %v", len(h), h)
	}
}

func TestVerifySpecVector(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", vecMsgID)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", vecSignature)
	if err := Verify(vecSecret, []byte(vecPayload), h, vecTime.Add(30*time.Second)); err != nil {
		t.Fatalf("spec vector does not verify: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two secrets are equal")
	}
	b64, ok := strings.CutPrefix(a, "whsec_")
	if !ok {
		t.Fatalf("secret %q lacks the whsec_ prefix", a)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) != 32 {
		t.Fatalf("secret key decodes to %d bytes (%v), want 32", len(key), err)
	}
	// Interoperability: the official library accepts our secrets and our signatures.
	now := time.Now()
	h, err := Sign(a, "msg_1", now, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify([]byte(`{}`), h); err != nil {
		t.Fatalf("library rejects our signature: %v", err)
	}
}

func TestNewSignerRejectsBadSecrets(t *testing.T) {
	short := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16))
	long := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))
	tests := []struct {
		name    string
		secrets []string
	}{
		{"none", nil},
		{"empty", []string{""}},
		{"prefix only", []string{"whsec_"}},
		{"no prefix", []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		{"not base64", []string{"whsec_not*base64!"}},
		{"too short", []string{short}},
		{"too long", []string{long}},
		{"second bad", []string{vecSecret, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSigner(tt.secrets...)
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("NewSigner = %v, want ErrInvalidSecret", err)
			}
			if apperr.KindOf(err) != apperr.Internal {
				t.Errorf("kind = %v, want Internal", apperr.KindOf(err))
			}
		})
	}
	var zero *Signer
	if _, err := zero.Sign(vecMsgID, vecTime, nil); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("nil Signer Sign = %v, want ErrInvalidSecret", err)
	}
	if err := (&Signer{}).Verify([]byte(vecPayload), vecHeaders(), vecTime); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("zero Signer Verify = %v, want ErrInvalidSecret", err)
	}
	// Verify with an unusable secret is our fault, not the caller's: it must not read as a 401.
	if err := Verify("", []byte(vecPayload), vecHeaders(), vecTime); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("Verify with empty secret = %v, want ErrInvalidSecret", err)
	}
}

func TestSignRejectsBadInput(t *testing.T) {
	tests := []struct {
		name  string
		msgID string
		ts    time.Time
	}{
		{"empty id", "", vecTime},
		{"id with space", "msg 1", vecTime},
		{"id with newline", "msg\r\nX-Evil: 1", vecTime},
		{"id not ascii", "msg_é", vecTime},
		{"id too long", strings.Repeat("m", 257), vecTime},
		{"zero time", "msg_1", time.Time{}},
		{"before 1970", "msg_1", time.Unix(-1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(vecSecret, tt.msgID, tt.ts, nil); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Sign = %v, want ErrInvalidMessage", err)
			}
		})
	}
}

func vecHeaders() http.Header {
	h := http.Header{}
	h.Set("webhook-id", vecMsgID)
	h.Set("webhook-timestamp", fmt.Sprint(vecTimestamp))
	h.Set("webhook-signature", vecSignature)
	return h
}

func TestVerify(t *testing.T) {
	payload := []byte(vecPayload)
	otherSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-24-byte-key-here"))
	otherSig := func(ts time.Time) string {
		h, err := Sign(otherSecret, vecMsgID, ts, payload)
		if err != nil {
			t.Fatal(err)
		}
		return h.Get(HeaderSignature)
	}
	tests := []struct {
		name    string
		secret  string
		payload []byte
		edit    func(http.Header)
		now     time.Time
		want    error
	}{
		{name: "valid", now: vecTime},
		{name: "valid 5 min later", now: vecTime.Add(5 * time.Minute)},
		{name: "valid 5 min earlier", now: vecTime.Add(-5 * time.Minute)},
		{name: "stale (6 min old)", now: vecTime.Add(6 * time.Minute), want: ErrStaleTimestamp},
		{name: "stale by a second", now: vecTime.Add(5*time.Minute + time.Second), want: ErrStaleTimestamp},
		{name: "future (6 min ahead)", now: vecTime.Add(-6 * time.Minute), want: ErrFutureTimestamp},
		{name: "tampered body", payload: []byte(`{"test": 2432232315}`), now: vecTime, want: ErrInvalidSignature},
		{name: "body with trailing newline", payload: []byte(vecPayload + "\n"), now: vecTime, want: ErrInvalidSignature},
		{name: "wrong secret", secret: otherSecret, now: vecTime, want: ErrInvalidSignature},
		{name: "missing id", edit: func(h http.Header) { h.Del("webhook-id") }, now: vecTime, want: ErrMissingHeaders},
		{name: "missing timestamp", edit: func(h http.Header) { h.Del("webhook-timestamp") }, now: vecTime, want: ErrMissingHeaders},
		{name: "missing signature", edit: func(h http.Header) { h.Del("webhook-signature") }, now: vecTime, want: ErrMissingHeaders},
		{name: "empty signature", edit: func(h http.Header) { h.Set("webhook-signature", "") }, now: vecTime, want: ErrMissingHeaders},
		{name: "other id", edit: func(h http.Header) { h.Set("webhook-id", "msg_other") }, now: vecTime, want: ErrInvalidSignature},
		{name: "timestamp shifted within tolerance", edit: func(h http.Header) { h.Set("webhook-timestamp", "1614265331") }, now: vecTime, want: ErrInvalidSignature},
		{name: "timestamp not a number", edit: func(h http.Header) { h.Set("webhook-timestamp", "1614265330.0") }, now: vecTime, want: ErrInvalidTimestamp},
		{name: "timestamp negative", edit: func(h http.Header) { h.Set("webhook-timestamp", "-1") }, now: vecTime, want: ErrInvalidTimestamp},
		{name: "timestamp in ms", edit: func(h http.Header) { h.Set("webhook-timestamp", "1614265330000") }, now: vecTime, want: ErrFutureTimestamp},
		{name: "partial signature", edit: func(h http.Header) { h.Set("webhook-signature", "v1,") }, now: vecTime, want: ErrInvalidSignature},
		{name: "no version", edit: func(h http.Header) { h.Set("webhook-signature", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") }, now: vecTime, want: ErrInvalidSignature},
		{name: "wrong version", edit: func(h http.Header) { h.Set("webhook-signature", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") }, now: vecTime, want: ErrInvalidSignature},
		{name: "v1a (asymmetric) only", edit: func(h http.Header) { h.Set("webhook-signature", "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") }, now: vecTime, want: ErrInvalidSignature},
		{
			name: "rotation: new signature first, valid second",
			edit: func(h http.Header) { h.Set("webhook-signature", otherSig(vecTime)+" "+vecSignature) },
			now:  vecTime,
		},
		{
			name: "rotation: valid first, unknown second",
			edit: func(h http.Header) { h.Set("webhook-signature", vecSignature+" "+otherSig(vecTime)) },
			now:  vecTime,
		},
		{
			name:   "rotation: verifier holds the new secret",
			edit:   func(h http.Header) { h.Set("webhook-signature", vecSignature+" "+otherSig(vecTime)) },
			secret: otherSecret,
			now:    vecTime,
		},
		{
			name: "signatures on separate header lines",
			edit: func(h http.Header) {
				h.Set("webhook-signature", otherSig(vecTime))
				h.Add("webhook-signature", vecSignature)
			},
			now: vecTime,
		},
		{
			name: "lower-case keys not canonicalised",
			edit: func(h http.Header) {
				for k, v := range h {
					delete(h, k)
					h[strings.ToLower(k)] = v
				}
			},
			now: vecTime,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := vecHeaders()
			if tt.edit != nil {
				tt.edit(h)
			}
			secret, body := vecSecret, payload
			if tt.secret != "" {
				secret = tt.secret
			}
			if tt.payload != nil {
				body = tt.payload
			}
			err := Verify(secret, body, h, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if apperr.KindOf(err) != apperr.Unauthenticated {
				t.Errorf("kind = %v, want Unauthenticated", apperr.KindOf(err))
			}
		})
	}
}

func TestSignerRotation(t *testing.T) {
	oldSecret := vecSecret
	newSecret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	both, err := NewSigner(newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(vecPayload)
	h, err := both.Sign(vecMsgID, vecTime, payload)
	if err != nil {
		t.Fatal(err)
	}
	sigs := strings.Split(h.Get(HeaderSignature), " ")
	if len(sigs) != 2 || sigs[1] != vecSignature || !strings.HasPrefix(sigs[0], "v1,") {
		t.Fatalf("signature header = %q, want a new v1 signature then the vector", h.Get(HeaderSignature))
	}
	// A receiver holding either secret accepts the message; one holding neither does not.
	for _, secret := range []string{oldSecret, newSecret} {
		if err := Verify(secret, payload, h, vecTime); err != nil {
			t.Errorf("receiver with one of the secrets: %v", err)
		}
	}
	stranger, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(stranger, payload, h, vecTime); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("receiver with another secret: %v, want ErrInvalidSignature", err)
	}
	// And a verifier holding both accepts a message signed with only the old one.
	h, err = Sign(oldSecret, vecMsgID, vecTime, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := both.Verify(payload, h, vecTime); err != nil {
		t.Errorf("verifier with both secrets, message signed with the old: %v", err)
	}
}
