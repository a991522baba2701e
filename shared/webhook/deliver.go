package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Outcome classifies a delivery attempt for the sender's retry logic.
type Outcome int

// Outcomes of a delivery. The zero value is Retry so that an attempt nobody classified is tried again
// rather than silently dropped.
const (
	Retry     Outcome = iota // 5xx, 408, 429, timeouts, connection errors: try again after Backoff
	Delivered                // 2xx: done
	Permanent                // other 4xx, redirects, refused or invalid URL, bad secret: retrying cannot help
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Permanent:
		return "permanent"
	default:
		return "retry"
	}
}

// Result describes one delivery attempt. Status is the HTTP status, 0 if no response arrived. Err is nil
// only when Outcome is Delivered.
type Result struct {
	Status   int
	Outcome  Outcome
	Err      error
	Duration time.Duration
}

// maxResponseBody is how much of a response we read: enough to let the connection be reused after a
// short reply, never enough for a hostile endpoint to make us buffer a large body.
const maxResponseBody = 4 << 10

// userAgent identifies our deliveries in department logs.
const userAgent = "civicsnap-webhooks/1"

// Deliver POSTs payload (JSON) to url with Standard Webhooks headers signed by secret at now, as message
// msgID, and classifies what happened. The client should come from EgressPolicy.Client, which refuses
// internal destinations and does not follow redirects; the caller's ctx and the client's timeout bound the
// attempt. Deliver does not retry: the caller records the Result and schedules the next attempt with
// Backoff, reusing msgID so the receiver can drop duplicates.
func Deliver(ctx context.Context, client *http.Client, url, secret, msgID string, payload []byte, now time.Time) Result {
	start := time.Now()
	res := deliver(ctx, client, url, secret, msgID, payload, now)
	res.Duration = time.Since(start)
	return res
}

func deliver(ctx context.Context, client *http.Client, url, secret, msgID string, payload []byte, now time.Time) Result {
	if client == nil {
		return Result{Outcome: Permanent, Err: apperr.New(apperr.Internal, "webhook_no_client", "no HTTP client to deliver with")}
	}
	h, err := Sign(secret, msgID, now, payload)
	if err != nil {
		// A malformed secret or message id is configuration or a bug; the same attempt would fail again.
		return Result{Outcome: Permanent, Err: fmt.Errorf("sign webhook %s: %w", msgID, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return Result{Outcome: Permanent, Err: ErrInvalidURL.Wrap(err)}
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := client.Do(req)
	if err != nil {
		return Result{Outcome: classifyErr(err), Err: fmt.Errorf("deliver webhook %s: %w", msgID, err)}
	}
	// Drain a little so a short reply leaves the connection reusable; the rest is not our business.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	_ = resp.Body.Close()

	res := Result{Status: resp.StatusCode, Outcome: classifyStatus(resp.StatusCode)}
	if res.Outcome != Delivered {
		res.Err = fmt.Errorf("deliver webhook %s: endpoint answered %d %s", msgID, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return res
}

// classifyStatus follows the usual webhook convention: 2xx accepts; 408 and 429 ask us to come back later,
// as do server errors; any other client error (and a redirect, which we do not follow) will not change by
// itself.
func classifyStatus(status int) Outcome {
	switch {
	case status >= 200 && status < 300:
		return Delivered
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return Retry
	default:
		return Permanent
	}
}

// classifyErr treats a refused or malformed destination as permanent and every other failure to get an
// answer (timeout, reset, DNS, TLS, a cancelled context) as worth retrying later.
func classifyErr(err error) Outcome {
	if errors.Is(err, ErrEgressRefused) || errors.Is(err, ErrInvalidURL) {
		return Permanent
	}
	return Retry
}
