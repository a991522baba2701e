package volunteer

import (
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// RFC 6238's appendix B secret (SHA1): "12345678901234567890".
var rfcSecret = []byte("12345678901234567890")

// The codes are RFC 6238's: the appendix's test vectors (8 digits there; the last 6 of them here), and an
// authenticator (totp.GenerateCodeCustom with the same period) computes the code the organiser shows.
func TestCodesAreRFC6238(t *testing.T) {
	vectors := []struct {
		unix int64
		code string // RFC 6238 appendix B, SHA1, T0 = 0, X = 30: the 8-digit value's last 6 digits
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"},
		{2000000000, "279037"}, {20000000000, "353130"},
	}
	for _, v := range vectors {
		// Our period is 60 s: step n of ours is step n of a 30 s TOTP at twice the time index.
		got, err := stepCode(rfcSecret, v.unix/30)
		if err != nil || got != v.code {
			t.Errorf("step %d: %q %v, want %q", v.unix/30, got, err, v.code)
		}
	}
	now := time.Date(2026, 12, 5, 9, 0, 30, 0, time.UTC)
	c, err := CurrentCode("a1", rfcSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := totp.GenerateCodeCustom(secretText(rfcSecret), now, totp.ValidateOpts{Period: 60, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil || c.Code != auth {
		t.Errorf("code %q, an authenticator shows %q (%v)", c.Code, auth, err)
	}
	if c.QR != "civicsnap:checkin:a1:"+c.Code || c.Period != 60 {
		t.Errorf("qr %q period %d", c.QR, c.Period)
	}
	if want := time.Date(2026, 12, 5, 9, 1, 0, 0, time.UTC); !c.RefreshAt.Equal(want) || !c.ExpiresAt.Equal(want.Add(time.Minute)) {
		t.Errorf("refresh %v expires %v", c.RefreshAt, c.ExpiresAt)
	}
}

func TestCheckCode(t *testing.T) {
	secret := []byte("0123456789abcdefghij")
	shown := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) // the start of a step
	c, err := CurrentCode("a1", secret, shown)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := CurrentCode("a1", []byte("another secret of 20"), shown)
	tests := []struct {
		name string
		code string
		at   time.Time
		want error
	}{
		{"at once", c.Code, shown, nil},
		{"at the end of its step", c.Code, shown.Add(59 * time.Second), nil},
		{"in the next step", c.Code, shown.Add(119 * time.Second), nil},
		{"two steps later", c.Code, shown.Add(120 * time.Second), ErrCodeExpired},
		{"eleven steps later", c.Code, shown.Add(11*time.Minute + 59*time.Second), ErrCodeExpired},
		{"twelve steps later", c.Code, shown.Add(12 * time.Minute), ErrCodeInvalid},
		{"before it is shown", c.Code, shown.Add(-time.Second), ErrCodeInvalid},
		{"another activity's", other.Code, shown, ErrCodeInvalid},
		{"five digits", c.Code[:5], shown, ErrCodeInvalid},
		{"letters", "12a456", shown, ErrCodeInvalid},
		{"seven digits", c.Code + "1", shown, ErrCodeInvalid},
		{"full-width digits", "１２３４５６", shown, ErrCodeInvalid},
		{"empty", "", shown, ErrCodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := CheckCode(secret, tt.code, tt.at)
			if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Fatalf("CheckCode = %d, %v; want %v", step, err, tt.want)
			}
			if tt.want == nil && step != c.Step {
				t.Errorf("step %d, want %d", step, c.Step)
			}
		})
	}
	if _, err := CheckCode(nil, c.Code, shown); !errors.Is(err, errNoSecret) {
		t.Errorf("no secret: %v", err)
	}
}
