package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestLambdaHandlerKeepsHeadersAndStripsStage(t *testing.T) {
	var gotSig, gotKey, gotPath string
	h := LambdaHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotSig, gotKey, gotPath = r.Header.Get("Webhook-Signature"), r.Header.Get("Idempotency-Key"), r.URL.Path
		w.WriteHeader(204)
	}))
	tests := []struct {
		stage, rawPath string
	}{
		{"$default", "/v1/health"},
		{"dev", "/dev/v1/health"},
	}
	for _, tt := range tests {
		resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: tt.rawPath,
			Headers: map[string]string{"webhook-signature": "v1,abc= v1,def=", "idempotency-key": "a,b"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: tt.stage,
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: tt.rawPath}},
		})
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("stage %s: %v %d", tt.stage, err, resp.StatusCode)
		}
		if gotSig != "v1,abc= v1,def=" || gotKey != "a,b" || gotPath != "/v1/health" {
			t.Errorf("stage %s: signature %q key %q path %q", tt.stage, gotSig, gotKey, gotPath)
		}
	}
}

func TestParseGroups(t *testing.T) {
	tests := map[string][]string{
		"":                    nil,
		"[citizen]":           {"citizen"},
		"[citizen staff]":     {"citizen", "staff"},
		`["citizen","admin"]`: {"citizen", "admin"},
		"citizen,clerk":       {"citizen", "clerk"},
	}
	for in, want := range tests {
		got := ParseGroups(in)
		if len(got) != len(want) {
			t.Errorf("ParseGroups(%q) = %v, want %v", in, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("ParseGroups(%q) = %v, want %v", in, got, want)
			}
		}
	}
}
