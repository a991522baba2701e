package idem

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key  string
		want error
	}{
		{"", ErrKeyRequired},
		{"abc-123", nil},
		{strings.Repeat("k", MaxKeyLen), nil},
		{strings.Repeat("k", MaxKeyLen+1), ErrKeyInvalid},
		{"has space", ErrKeyInvalid},
		{"ключ", ErrKeyInvalid},
	}
	for _, tt := range tests {
		if got := ValidateKey(tt.key); !errors.Is(got, tt.want) && !(got == nil && tt.want == nil) {
			t.Errorf("ValidateKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	h := Hash([]byte(`{"a":1}`))
	tests := []struct {
		name    string
		rec     Record
		want    Outcome
		wantErr error
	}{
		{"done same body replays", Record{BodyHash: h, Status: Done}, Replay, nil},
		{"other body refused even when done", Record{BodyHash: "x", Status: Done}, 0, ErrKeyReused},
		{"in flight, lease held", Record{BodyHash: h, Status: InFlight, LockedUntil: now.Add(time.Second)}, 0, ErrInFlight},
		{"in flight, lease expired", Record{BodyHash: h, Status: InFlight, LockedUntil: now.Add(-time.Second)}, TakeOver, nil},
		{"other body in flight", Record{BodyHash: "x", Status: InFlight, LockedUntil: now.Add(time.Second)}, 0, ErrKeyReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decide(tt.rec, h, now)
			if !errors.Is(err, tt.wantErr) && !(err == nil && tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("outcome = %v, want %v", got, tt.want)
			}
		})
	}
}
