package volunteer

import (
	"encoding/base32"
	"errors"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Check-in codes are TOTP (RFC 6238) over the activity's secret, with pquerna/otp: the organiser's screen
// shows the code of the current step (and a QR of CheckinQR), an authenticator app given the secret would
// show the same. A code is accepted in its step and the next (it lives at most two periods); one of the
// codeExpiredSteps steps before that is code_expired, anything else code_invalid.
const (
	CodePeriod       = 60 * time.Second
	CodeDigits       = 6
	SecretSize       = 20 // bytes of an activity's secret (RFC 4226's recommended 160 bits for SHA1)
	codeAccepted     = 2  // the current step and the one before
	codeExpiredSteps = 10 // steps before the accepted ones that are told apart as expired
)

var codeOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// errNoSecret: an activity without a secret cannot have codes (a fault of the stored item, not the
// caller's).
var errNoSecret = errors.New("the activity has no code secret")

// CodeStep is the TOTP step (counter) of t.
func CodeStep(t time.Time) int64 { return t.Unix() / int64(CodePeriod/time.Second) }

// stepStart is when step begins.
func stepStart(step int64) time.Time {
	return time.Unix(step*int64(CodePeriod/time.Second), 0).UTC()
}

func secretText(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// stepCode is the code of one step.
func stepCode(secret []byte, step int64) (string, error) {
	if len(secret) == 0 {
		return "", errNoSecret
	}
	return hotp.GenerateCodeCustom(secretText(secret), uint64(step), codeOpts)
}

// Code is the code an organiser shows.
type Code struct {
	Code      string    `json:"code"`
	QR        string    `json:"qr"`        // what the QR code encodes: civicsnap:checkin:<activityId>:<code>
	Step      int64     `json:"step"`      // the TOTP counter
	RefreshAt time.Time `json:"refreshAt"` // when the next code starts
	ExpiresAt time.Time `json:"expiresAt"` // when this one stops being accepted
	Period    int       `json:"period"`    // seconds
}

// CurrentCode returns the code of activity a's secret at t.
func CurrentCode(activityID string, secret []byte, t time.Time) (Code, error) {
	step := CodeStep(t)
	c, err := stepCode(secret, step)
	if err != nil {
		return Code{}, err
	}
	return Code{Code: c, QR: CheckinQR(activityID, c), Step: step, RefreshAt: stepStart(step + 1),
		ExpiresAt: stepStart(step + codeAccepted), Period: int(CodePeriod / time.Second)}, nil
}

// CheckinQR is the text of the QR code the organiser's screen shows.
func CheckinQR(activityID, code string) string { return "civicsnap:checkin:" + activityID + ":" + code }

// CheckCode returns the step of code when it is accepted at t; ErrCodeExpired when it is the code of one of
// the codeExpiredSteps steps before the accepted ones, ErrCodeInvalid otherwise (not six digits, or no
// recent code of the secret).
func CheckCode(secret []byte, code string, t time.Time) (int64, error) {
	if !wellFormedCode(code) {
		return 0, ErrCodeInvalid
	}
	if len(secret) == 0 {
		return 0, errNoSecret
	}
	now := CodeStep(t)
	for back := range int64(codeAccepted + codeExpiredSteps) {
		step := now - back
		// hotp.ValidateCustom compares in constant time.
		ok, err := hotp.ValidateCustom(code, uint64(step), secretText(secret), codeOpts)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if back < codeAccepted {
			return step, nil
		}
		return 0, ErrCodeExpired
	}
	return 0, ErrCodeInvalid
}

func wellFormedCode(code string) bool {
	if len(code) != CodeDigits {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
