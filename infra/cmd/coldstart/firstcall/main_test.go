package main

import (
	"context"
	"testing"
)

// Each scheduled function builds as main builds it from a Lambda-like environment (no call is made), and a
// name that is not one is refused.
func TestBuild(t *testing.T) {
	env := map[string]string{
		"TABLE_NAME": "civicsnap", "BUCKET_NAME": "civicsnap-photos", "CITY_TZ": "Asia/Shanghai",
		"OUTBOX_QUEUE_URL": "http://127.0.0.1:1/123456789012/outbox", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
	}
	for _, name := range scheduled {
		if h, err := build(context.Background(), name, func(k string) string { return env[k] }); err != nil || h == nil {
			t.Errorf("build(%q): %v", name, err)
		}
	}
	for _, name := range []string{"intake", "dispatch", ""} {
		if _, err := build(context.Background(), name, func(k string) string { return env[k] }); err == nil {
			t.Errorf("build(%q) built a handler, want it refused (not a scheduled function)", name)
		}
	}
}
