package platform

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestAWSConfig(t *testing.T) {
	lambdaEnv := map[string]string{
		"AWS_REGION": "ap-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range lambdaEnv {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name     string
		env      map[string]string
		err      error
		region   string
		token    string
		endpoint string
	}{
		{name: "Lambda's variables", env: lambdaEnv, region: "ap-east-1", token: "token"},
		{name: "no session token (sam local with long-term keys)", env: with("AWS_SESSION_TOKEN", ""), region: "ap-east-1"},
		{name: "AWS_DEFAULT_REGION", env: with("AWS_REGION", "", "AWS_DEFAULT_REGION", "us-west-2"), region: "us-west-2", token: "token"},
		{name: "AWS_ENDPOINT_URL (moto)", env: with("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), region: "ap-east-1", token: "token", endpoint: "http://127.0.0.1:5000"},
		{name: "AWS_ENDPOINT_URL without a scheme", env: with("AWS_ENDPOINT_URL", "127.0.0.1:5000"), err: ErrBadEndpoint},
		{name: "no region", env: with("AWS_REGION", ""), err: ErrNoRegion},
		{name: "no key id", env: with("AWS_ACCESS_KEY_ID", ""), err: ErrNoCredentials},
		{name: "no secret", env: with("AWS_SECRET_ACCESS_KEY", ""), err: ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := AWSConfig(func(k string) string { return tt.env[k] })
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if cfg.Region != tt.region {
				t.Errorf("region %q, want %q", cfg.Region, tt.region)
			}
			if got := aws.ToString(cfg.BaseEndpoint); got != tt.endpoint {
				t.Errorf("endpoint %q, want %q", got, tt.endpoint)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tt.env["AWS_ACCESS_KEY_ID"] || creds.SecretAccessKey != tt.env["AWS_SECRET_ACCESS_KEY"] || creds.SessionToken != tt.token {
				t.Errorf("credentials %+v, want the environment's", creds)
			}
			if creds.CanExpire {
				t.Errorf("credentials can expire: Lambda's stay the same for the sandbox's life")
			}
		})
	}
}
