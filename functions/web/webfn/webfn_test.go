package webfn

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/webclient"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    webclient.Config
		wantErr string
	}{
		{"local stack: only moto's origin", map[string]string{"PHOTO_ORIGIN": "http://127.0.0.1:5000"}, webclient.Config{PhotoOrigin: "http://127.0.0.1:5000"}, ""},
		{"AWS", map[string]string{"COGNITO_DOMAIN": "https://p.auth.us-east-1.amazoncognito.com", "COGNITO_CLIENT_ID": "c",
			"TILE_URL_TEMPLATE": "https://t.example/{z}/{x}/{y}.png", "TILE_ATTRIBUTION": "© t", "PHOTO_ORIGIN": "https://b.s3.us-east-1.amazonaws.com"},
			webclient.Config{CognitoDomain: "https://p.auth.us-east-1.amazoncognito.com", CognitoClientID: "c", TileURL: "https://t.example/{z}/{x}/{y}.png",
				TileAttribution: "© t", PhotoOrigin: "https://b.s3.us-east-1.amazonaws.com"}, ""},
		{"a tile URL that is not one", map[string]string{"TILE_URL_TEMPLATE": "https://t.example/tiles.png"}, webclient.Config{}, "TileURL"},
		{"a photo origin over http", map[string]string{"PHOTO_ORIGIN": "http://b.s3.amazonaws.com"}, webclient.Config{}, "PhotoOrigin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	fn := New(webclient.Config{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	var got []string
	for _, r := range fn.Routes() {
		got = append(got, r.String())
	}
	want := []string{"GET /app", "GET /app/{proxy+}", "GET /counter", "GET /counter/{proxy+}", "GET /dept", "GET /dept/{proxy+}"}
	if !slices.Equal(got, want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
}

// Through the Lambda adapter under a named stage, as API Gateway calls it: the stage is not in the
// function's paths, and the bare prefix redirects relatively, so the browser stays under the stage.
func TestLambdaUnderAStage(t *testing.T) {
	fn := New(webclient.Config{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ev := func(path string) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/dev" + path, Headers: map[string]string{"host": "x.example"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "dev", RequestID: "r1",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/dev" + path}}}
	}
	tests := []struct {
		path, wantLocation string
		wantStatus         int
		wantBody           string
	}{
		{"/dept", "dept/", 301, ""},
		{"/counter/common/api.js", "", 200, "export async function api("},
		{"/app/config.json", "", 200, `"app":"app"`},
		{"/counter/config.json", "", 200, `"app":"counter"`},
		{"/app/missing.js", "", 404, ""},
	}
	for _, tt := range tests {
		res, err := fn.Handle(context.Background(), ev(tt.path))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tt.wantStatus || res.Headers["Location"] != tt.wantLocation || !strings.Contains(res.Body, tt.wantBody) {
			t.Errorf("%s: %d Location %q, body has %q: %v", tt.path, res.StatusCode, res.Headers["Location"], tt.wantBody, strings.Contains(res.Body, tt.wantBody))
		}
	}
}

// The function serves static files: it links no AWS SDK package at all (no client, no config, no signer),
// which keeps its binary and cold start at the floor of aws-lambda-go.
func TestLinksNoAWSSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc,timetzdata", "github.com/civicsnap/civicsnap/functions/web").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2") || strings.HasPrefix(p, "github.com/aws/smithy-go") {
			t.Errorf("the web function links %s", p)
		}
	}
}

// The fixtures under events/web (also for `sam local invoke WebFunction -e …`) answer as API Gateway
// would pass them on: under the stage "dev".
func TestEventFixtures(t *testing.T) {
	fn, err := FromEnv(func(k string) string {
		return map[string]string{"PHOTO_ORIGIN": "https://photos.s3.ap-east-1.amazonaws.com"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, wantLocation, wantBody string
		wantStatus                   int
	}{
		{"app-config.json", "", `"photoOrigin":"https://photos.s3.ap-east-1.amazonaws.com"`, 200},
		{"dept-redirect.json", "dept/", "", 301},
	}
	for _, tt := range tests {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "web", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		res, err := fn.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tt.wantStatus || res.Headers["Location"] != tt.wantLocation || !strings.Contains(res.Body, tt.wantBody) {
			t.Errorf("%s: %d Location %q body %q", tt.file, res.StatusCode, res.Headers["Location"], res.Body)
		}
	}
}

// BenchmarkNew is the function's own share of a cold start: loading and hashing every client's files.
func BenchmarkNew(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for b.Loop() {
		New(webclient.Config{}, log)
	}
}
