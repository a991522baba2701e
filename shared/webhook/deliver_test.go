package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDeliverStatuses(t *testing.T) {
	tests := []struct {
		status int
		want   Outcome
	}{
		{200, Delivered},
		{202, Delivered},
		{204, Delivered},
		{301, Permanent},
		{307, Permanent},
		{400, Permanent},
		{401, Permanent},
		{404, Permanent},
		{408, Retry},
		{410, Permanent},
		{413, Permanent},
		{422, Permanent},
		{429, Retry},
		{500, Retry},
		{502, Retry},
		{503, Retry},
		{504, Retry},
	}
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"type":"report.dispatched","data":{"reportId":"r_1"}}`)
	now := time.Now()
	client := EgressPolicy{AllowLoopbackHTTP: true}.Client(5 * time.Second)

	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			// The receiver verifies like a department would: raw body, our headers, its own clock.
			verified := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err == nil {
					err = Verify(secret, body, r.Header, now)
				}
				if err == nil && (r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json") {
					err = errors.New("not a JSON POST: " + r.Method + " " + r.Header.Get("Content-Type"))
				}
				if err == nil && r.Header.Get("webhook-id") != "msg_1" {
					err = errors.New("webhook-id = " + r.Header.Get("webhook-id"))
				}
				verified <- err
				if tt.status >= 300 && tt.status < 400 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()

			res := Deliver(context.Background(), client, srv.URL+"/hook", secret, "msg_1", payload, now)
			if err := <-verified; err != nil {
				t.Fatalf("receiver could not verify the delivery: %v", err)
			}
			if res.Status != tt.status || res.Outcome != tt.want {
				t.Fatalf("Deliver = status %d %v (%v), want %d %v", res.Status, res.Outcome, res.Err, tt.status, tt.want)
			}
			if (res.Err == nil) != (tt.want == Delivered) {
				t.Errorf("Err = %v with outcome %v", res.Err, res.Outcome)
			}
			if res.Duration <= 0 {
				t.Errorf("Duration = %v", res.Duration)
			}
		})
	}
}

func TestDeliverFailures(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	local := EgressPolicy{AllowLoopbackHTTP: true}
	now := time.Now()

	// release unblocks the slow handler so its server can close.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	// A huge body must not be read in full: only the first few KiB are drained.
	var written atomic.Int64
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for range 1024 { // 32 MiB if anyone read it all
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer huge.Close()

	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	var hits atomic.Int32
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer counted.Close()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		ctx    context.Context
		client *http.Client
		url    string
		secret string
		want   Outcome
		err    error
	}{
		{name: "timeout", client: local.Client(100 * time.Millisecond), url: slow.URL, want: Retry},
		{name: "connection refused", client: local.Client(time.Second), url: closedURL, want: Retry},
		{name: "cancelled context", ctx: cancelled, client: local.Client(time.Second), url: counted.URL, want: Retry},
		{name: "egress refused (loopback in deployed policy)", client: EgressPolicy{}.Client(time.Second), url: counted.URL, want: Permanent, err: ErrEgressRefused},
		{name: "egress refused (metadata)", client: local.Client(time.Second), url: "http://169.254.169.254/latest/meta-data/", want: Permanent, err: ErrEgressRefused},
		{name: "egress refused (plain http)", client: local.Client(time.Second), url: "http://dept.example.gov.cn/hook", want: Permanent, err: ErrEgressRefused},
		{name: "invalid URL", client: local.Client(time.Second), url: "http://[::1", want: Permanent, err: ErrInvalidURL},
		{name: "relative URL", client: local.Client(time.Second), url: "/hook", want: Permanent, err: ErrInvalidURL},
		{name: "bad secret", client: local.Client(time.Second), url: counted.URL, secret: "whsec_", want: Permanent, err: ErrInvalidSecret},
		{name: "no client", url: counted.URL, want: Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			s := secret
			if tt.secret != "" {
				s = tt.secret
			}
			start := time.Now()
			res := Deliver(ctx, tt.client, tt.url, s, "msg_1", []byte(`{}`), now)
			if res.Outcome != tt.want || res.Status != 0 || res.Err == nil {
				t.Fatalf("Deliver = status %d %v (%v), want 0 %v with an error", res.Status, res.Outcome, res.Err, tt.want)
			}
			if tt.err != nil && !errors.Is(res.Err, tt.err) {
				t.Errorf("Err = %v, want %v", res.Err, tt.err)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("failed deliveries reached the server %d times", hits.Load())
	}

	t.Run("huge response body", func(t *testing.T) {
		res := Deliver(context.Background(), local.Client(5*time.Second), huge.URL, secret, "msg_1", []byte(`{}`), now)
		if res.Outcome != Delivered || res.Err != nil {
			t.Fatalf("Deliver = %v (%v), want Delivered", res.Outcome, res.Err)
		}
		// Socket buffers absorb some of what the server writes, but nowhere near 32 MiB.
		if n := written.Load(); n >= 32<<20 {
			t.Errorf("server wrote %d bytes: the client read the whole body", n)
		}
	})
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Delivered: "delivered", Permanent: "permanent", Retry: "retry"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q, want %q", o, o.String(), want)
		}
	}
}
