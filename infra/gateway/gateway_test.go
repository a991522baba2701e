package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func echo(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	b, _ := json.Marshal(ev)
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(b), Headers: map[string]string{"Content-Type": "application/json"}}, nil
}

func newTestGateway(t *testing.T) (*Gateway, *Issuer) {
	t.Helper()
	iss, err := NewIssuer("local", "app", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
	}
	g, err := New([]Route{
		{Method: "GET", Path: "/v1/health", Handler: echo, Function: "F"},
		{Method: "GET", Path: "/v1/reports/{id}", Auth: true, Handler: echo, Function: "F"},
		{Method: "POST", Path: "/v1/uploads", Auth: true, Handler: echo, Function: "F"},
		{Method: "ANY", Path: "/static/{proxy+}", Handler: echo, Function: "F"},
		{Method: "GET", Path: "/v1/fail", Handler: fail, Function: "F"},
	}, iss, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return g, iss
}

func TestGateway(t *testing.T) {
	g, iss := newTestGateway(t)
	tok, err := iss.Mint(TokenRequest{Sub: "u1", Groups: []string{"citizen", "staff"}, Dept: "cgj"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewIssuer("local", "app", time.Hour)
	forged, _ := other.Mint(TokenRequest{Sub: "u1", Groups: []string{"admin"}})
	wrongAud, _ := func() (string, error) {
		i, _ := NewIssuer("local", "other", time.Hour)
		i.key = iss.key
		return i.Mint(TokenRequest{Sub: "u1"})
	}()
	expired, _ := func() (string, error) {
		i := *iss
		i.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
		return i.Mint(TokenRequest{Sub: "u1"})
	}()

	tests := []struct {
		name, method, path, auth, contentType, body string
		wantStatus                                  int
		check                                       func(t *testing.T, ev events.APIGatewayV2HTTPRequest)
	}{
		{name: "public route", method: "GET", path: "/v1/health?a=1&a=2", wantStatus: 200, check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
			if ev.Version != "2.0" || ev.RouteKey != "GET /v1/health" || ev.RawQueryString != "a=1&a=2" || ev.QueryStringParameters["a"] != "1,2" {
				t.Errorf("event = %+v", ev)
			}
			if ev.RequestContext.Authorizer != nil {
				t.Errorf("public route got claims")
			}
		}},
		{name: "path parameter and claims", method: "GET", path: "/v1/reports/abc", auth: "Bearer " + tok, wantStatus: 200, check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
			c := ev.RequestContext.Authorizer.JWT.Claims
			if ev.PathParameters["id"] != "abc" || ev.RouteKey != "GET /v1/reports/{id}" {
				t.Errorf("params = %v route = %s", ev.PathParameters, ev.RouteKey)
			}
			if c["sub"] != "u1" || c["cognito:groups"] != "[citizen staff]" || c["custom:dept"] != "cgj" {
				t.Errorf("claims = %v", c)
			}
		}},
		{name: "missing token", method: "GET", path: "/v1/reports/abc", wantStatus: 401},
		{name: "token from another key", method: "GET", path: "/v1/reports/abc", auth: "Bearer " + forged, wantStatus: 401},
		{name: "wrong audience", method: "GET", path: "/v1/reports/abc", auth: "Bearer " + wrongAud, wantStatus: 401},
		{name: "expired", method: "GET", path: "/v1/reports/abc", auth: "Bearer " + expired, wantStatus: 401},
		{name: "binary body is base64", method: "POST", path: "/v1/uploads", auth: tok, contentType: "application/octet-stream", body: "\x00\x01", wantStatus: 200, check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
			if !ev.IsBase64Encoded || ev.Body != "AAE=" {
				t.Errorf("body = %q base64 = %v", ev.Body, ev.IsBase64Encoded)
			}
		}},
		{name: "json body is text", method: "POST", path: "/v1/uploads", auth: tok, contentType: "application/json", body: `{"a":1}`, wantStatus: 200, check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
			if ev.IsBase64Encoded || ev.Body != `{"a":1}` {
				t.Errorf("body = %q", ev.Body)
			}
		}},
		{name: "greedy path", method: "DELETE", path: "/static/a/b.js", wantStatus: 200, check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
			if ev.PathParameters["proxy"] != "a/b.js" {
				t.Errorf("proxy = %q", ev.PathParameters["proxy"])
			}
		}},
		{name: "unknown route", method: "GET", path: "/v2/nothing", wantStatus: 404},
		{name: "function error", method: "GET", path: "/v1/fail", wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.check != nil {
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil {
					t.Fatal(err)
				}
				tt.check(t, ev)
			}
		})
	}
}

func TestWriteResponseBase64(t *testing.T) {
	rec := httptest.NewRecorder()
	err := WriteResponse(rec, events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: "aGk=", IsBase64Encoded: true, Cookies: []string{"a=b"}})
	if err != nil || rec.Code != 201 || rec.Body.String() != "hi" || rec.Header().Get("Set-Cookie") != "a=b" {
		t.Errorf("got %d %q %v err=%v", rec.Code, rec.Body, rec.Header(), err)
	}
}

// TestUnauthorizedIsAWSBody: a request on an authorized route without a valid token gets what API Gateway's
// JWT authorizer answers in AWS (401, {"message":"Unauthorized"}, a Bearer challenge), and no function runs.
func TestUnauthorizedIsAWSBody(t *testing.T) {
	iss, err := NewIssuer("local", "app", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	count := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		calls++
		return echo(ctx, ev)
	}
	g, err := New([]Route{{Method: "GET", Path: "/v1/me", Auth: true, Handler: count, Function: "F"}},
		iss, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewIssuer("local", "app", time.Hour)
	forged, _ := other.Mint(TokenRequest{Sub: "u1", Groups: []string{"admin"}})
	expiredIss := *iss
	expiredIss.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	expired, _ := expiredIss.Mint(TokenRequest{Sub: "u1"})
	wrongIss, _ := NewIssuer("elsewhere", "app", time.Hour)
	wrongIss.key = iss.key
	foreign, _ := wrongIss.Mint(TokenRequest{Sub: "u1"})
	for name, authz := range map[string]string{
		"missing": "", "not a jwt": "Bearer abc.def.ghi", "no bearer token": "Bearer ", "another key": "Bearer " + forged,
		"expired": "Bearer " + expired, "another issuer": "Bearer " + foreign,
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/v1/me", nil)
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != 401 || rec.Body.String() != `{"message":"Unauthorized"}` {
				t.Errorf("got %d %s, want 401 {\"message\":\"Unauthorized\"}", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if wa := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer ") || !strings.Contains(wa, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", wa)
			}
		})
	}
	if calls != 0 {
		t.Errorf("the function ran %d times behind a refused token", calls)
	}
}
