package awsrest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
)

// What clients see is what the SDK's presign client gave them: the POST policy's document, fields and URL,
// and a presigned GET's URL and query (less the SDK's x-id), for both addressing styles. The times (and the
// signature over them) are the only differences allowed.
func TestPresignsMatchTheSDK(t *testing.T) {
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })
	conditions := []any{
		[]any{"content-length-range", 1, int64(10 << 20)},
		map[string]string{"Content-Type": "image/jpeg"},
		map[string]string{"x-amz-meta-owner": "u1"},
	}
	for _, pathStyle := range []bool{true, false} {
		for _, endpoint := range []*string{aws.String("http://127.0.0.1:5000"), nil} {
			cfg := aws.Config{Region: "ap-east-1", BaseEndpoint: endpoint, Credentials: creds}
			sdk := s3.NewPresignClient(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }))
			ours := awsrest.New(cfg, awsrest.S3)
			ctx := context.Background()
			key := "photos/2026-11-30/0190a2b4-1c2d-7e3f-8a9b-000000000001.jpg"

			want, err := sdk.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: &key}, func(o *s3.PresignPostOptions) {
				o.Expires = 10 * time.Minute
				o.Conditions = conditions
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ours.PresignPost(ctx, "bucket", key, pathStyle, 10*time.Minute, conditions)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != want.URL {
				t.Errorf("POST URL %s, want %s", got.URL, want.URL)
			}
			if !slices.Equal(slices.Sorted(maps.Keys(got.Fields)), slices.Sorted(maps.Keys(want.Values))) {
				t.Errorf("fields %v, want %v", got.Fields, want.Values)
			}
			for _, k := range []string{"key", "X-Amz-Algorithm", "X-Amz-Security-Token"} {
				if got.Fields[k] != want.Values[k] {
					t.Errorf("field %s %q, want %q", k, got.Fields[k], want.Values[k])
				}
			}
			if g, w := policy(t, got.Fields["policy"]), policy(t, want.Values["policy"]); !reflect.DeepEqual(g, w) {
				t.Errorf("policy\n%v\nwant\n%v", g, w)
			}

			wantGet, err := sdk.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: &key, VersionId: aws.String("v1")}, s3.WithPresignExpires(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			u := ours.ObjectURL("bucket", key, pathStyle)
			u.RawQuery = url.Values{"versionId": {"v1"}}.Encode()
			gotGet, err := ours.Presign(ctx, &awsrest.Request{Operation: "GetObject", Method: http.MethodGet, URL: u}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			g, w := mustParse(t, gotGet), mustParse(t, wantGet.URL)
			if g.Scheme+g.Host+g.EscapedPath() != w.Scheme+w.Host+w.EscapedPath() {
				t.Errorf("GET %s, want %s", gotGet, wantGet.URL)
			}
			gq, wq := g.Query(), w.Query()
			wq.Del("x-id")
			for _, q := range []url.Values{gq, wq} {
				q.Del("X-Amz-Date")
				q.Del("X-Amz-Signature")
				q.Set("X-Amz-Credential", q.Get("X-Amz-Credential")[:4]+q.Get("X-Amz-Credential")[12:])
			}
			if !reflect.DeepEqual(gq, wq) {
				t.Errorf("GET query %v, want %v", gq, wq)
			}
		}
	}
}

// policy decodes a POST policy, its times (X-Amz-Date, expiration, the credential's date) blanked.
func policy(t *testing.T, b64 string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, doc["expiration"].(string)); err != nil {
		t.Errorf("expiration: %v", err)
	}
	doc["expiration"] = ""
	for _, c := range doc["conditions"].([]any) {
		if m, ok := c.(map[string]any); ok {
			if _, ok := m["X-Amz-Date"]; ok {
				m["X-Amz-Date"] = ""
			}
			if v, ok := m["X-Amz-Credential"].(string); ok {
				m["X-Amz-Credential"] = v[:5] + v[13:]
			}
		}
	}
	return doc
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
