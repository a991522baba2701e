// Package gateway is the local stand-in for API Gateway (HTTP API, payload format 2.0): it matches the
// routes template.yaml declares, checks JWTs like the HttpApi JWT authorizer, builds the same
// events.APIGatewayV2HTTPRequest Lambda receives and invokes the function's real handler in process.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Handler is a Lambda handler for HTTP API events.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Route is one route of the API.
type Route struct {
	Method   string // GET, POST, ... or ANY
	Path     string // API Gateway syntax: /v1/reports/{id}, /static/{proxy+}
	Auth     bool   // false when the template says Authorizer: NONE
	Function string // logical id, for logs
	Timeout  time.Duration
	Handler  Handler
}

// Gateway serves routes.
type Gateway struct {
	mux    *http.ServeMux
	issuer *Issuer
	log    *slog.Logger
}

var greedy = regexp.MustCompile(`\{([A-Za-z0-9_]+)\+\}`)
var param = regexp.MustCompile(`\{([A-Za-z0-9_]+)\+?\}`)

// New builds a gateway over routes. Extra handlers (local-only routes such as /_local/token) are mounted
// as they are, outside the API's event path.
func New(routes []Route, issuer *Issuer, log *slog.Logger, extra map[string]http.Handler) (*Gateway, error) {
	g := &Gateway{mux: http.NewServeMux(), issuer: issuer, log: log}
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "Not Found")
	})
	for _, rt := range routes {
		pattern := greedy.ReplaceAllString(rt.Path, "{$1...}")
		if rt.Method != "ANY" {
			pattern = rt.Method + " " + pattern
		}
		if err := register(g.mux, pattern, g.route(rt)); err != nil {
			return nil, fmt.Errorf("route %s %s: %w", rt.Method, rt.Path, err)
		}
	}
	for pattern, h := range extra {
		if err := register(g.mux, pattern, h); err != nil {
			return nil, fmt.Errorf("local route %s: %w", pattern, err)
		}
	}
	return g, nil
}

// register turns ServeMux's panic on a bad or conflicting pattern into an error.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// UnauthorizedBody is what an HttpApi JWT authorizer answers, with 401 and a `www-authenticate: Bearer …
// error="invalid_token"` header, to a request on an authorized route whose token is missing or fails a check:
// the function never runs. HTTP APIs cannot change that body (gateway responses are a REST API feature), so
// the local gateway answers the same, and README documents it.
const UnauthorizedBody = `{"message":"Unauthorized"}`

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"message\":%q}", msg)
}

func (g *Gateway) route(rt Route) http.Handler {
	routeKey := rt.Method + " " + rt.Path
	if rt.Method == "ANY" {
		routeKey = "ANY " + rt.Path
	}
	names := param.FindAllStringSubmatch(rt.Path, -1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var claims map[string]string
		if rt.Auth {
			c, err := g.issuer.Verify(r.Header.Get("Authorization"))
			if err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, UnauthorizedBody)
				g.log.Debug("unauthorized", "function", rt.Function, "route", routeKey, "err", err)
				return
			}
			claims = c
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20+1))
		if err != nil || len(body) > 10<<20 {
			apiError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		ev := Event(r, body, routeKey, claims)
		if len(names) > 0 {
			ev.PathParameters = map[string]string{}
			for _, n := range names {
				ev.PathParameters[n[1]] = r.PathValue(n[1])
			}
		}
		timeout := rt.Timeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: ev.RequestContext.RequestID,
			InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + rt.Function})
		start := time.Now()
		resp, err := rt.Handler(ctx, ev)
		if err != nil {
			g.log.Error("function failed", "function", rt.Function, "route", routeKey, "err", err)
			apiError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if err := WriteResponse(w, resp); err != nil {
			g.log.Error("bad function response", "function", rt.Function, "err", err)
			return
		}
		g.log.Debug("invoke", "function", rt.Function, "route", routeKey, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
	})
}

// Event builds the payload-2.0 event API Gateway would send for r.
func Event(r *http.Request, body []byte, routeKey string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	now := time.Now()
	headers := map[string]string{}
	var cookies []string
	for name, vals := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range vals {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(vals, ",")
	}
	headers["host"] = r.Host
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, v := range q {
			query[k] = strings.Join(v, ",")
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: "000000000000", Stage: "$default", RequestID: requestID(),
			APIID: "local", DomainName: r.Host, DomainPrefix: strings.Split(r.Host, ".")[0],
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP(r), UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	if len(body) > 0 {
		if isText(headers["content-type"]) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// isText mirrors which bodies API Gateway passes as text rather than base64.
func isText(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.Contains(ct, "javascript") || strings.Contains(ct, "x-www-form-urlencoded")
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WriteResponse writes a function's response as API Gateway would.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			apiError(w, http.StatusInternalServerError, "Internal Server Error")
			return fmt.Errorf("decode base64 body: %w", err)
		}
		body = b
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
