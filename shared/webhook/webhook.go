// Package webhook is civicsnap's side of Standard Webhooks (https://www.standardwebhooks.com): signing the
// notifications sent to departments and the city credit platform, verifying the callbacks departments send
// back, delivering a signed message through an egress-guarded HTTP client, and spacing out retries.
//
// Signatures are computed by the official library (github.com/standard-webhooks/standard-webhooks/libraries/go);
// this package adds what it leaves to callers: secret validation, an injectable clock for the timestamp
// tolerance, lenient header lookup, and stable domain errors. It imports neither the AWS SDK nor
// aws-lambda-go, so it runs the same in Lambda, the local stack and tests.
package webhook

import "github.com/civicsnap/civicsnap/shared/apperr"

// Errors of signing and verification. Verification failures are Unauthenticated so the HTTP edge answers
// 401 with a stable code; a malformed secret is our own configuration mistake, hence Internal.
var (
	ErrMissingHeaders   = apperr.New(apperr.Unauthenticated, "missing_signature_headers", "the webhook-id, webhook-timestamp and webhook-signature headers are required")
	ErrInvalidTimestamp = apperr.New(apperr.Unauthenticated, "invalid_timestamp", "the webhook-timestamp header is not a Unix time in seconds")
	ErrStaleTimestamp   = apperr.New(apperr.Unauthenticated, "stale_timestamp", "the webhook-timestamp is too old")
	ErrFutureTimestamp  = apperr.New(apperr.Unauthenticated, "future_timestamp", "the webhook-timestamp is too far in the future")
	ErrInvalidSignature = apperr.New(apperr.Unauthenticated, "invalid_signature", "no webhook signature matches the body")
	ErrInvalidSecret    = apperr.New(apperr.Internal, "invalid_webhook_secret", "the webhook secret is not a whsec_ base64 key of 24 to 64 bytes")
	ErrInvalidMessage   = apperr.New(apperr.Internal, "invalid_webhook_message", "the webhook message id or timestamp cannot be signed")
)

// Errors of egress. Both are permanent for a delivery: retrying the same URL cannot succeed until someone
// changes the department's configuration, and Invalid lets the admin API reject such a URL with a 400.
var (
	ErrInvalidURL    = apperr.New(apperr.Invalid, "invalid_webhook_url", "the webhook URL is not a valid absolute URL")
	ErrEgressRefused = apperr.New(apperr.Invalid, "egress_refused", "the webhook URL points to a destination we do not call")
)
