package motoserver

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{name: "defaults", opts: Options{}},
		{name: "region", opts: Options{Region: "eu-west-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, err := Start(ctx, tt.opts)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					_ = srv.Stop()
				}
			})

			u, err := url.Parse(srv.Endpoint())
			if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
				t.Fatalf("Endpoint() = %q, want http://127.0.0.1:PORT", srv.Endpoint())
			}
			cfg, err := srv.AWSConfig(ctx)
			if err != nil {
				t.Fatalf("AWSConfig: %v", err)
			}
			wantRegion := tt.opts.Region
			if wantRegion == "" {
				wantRegion = "us-east-1"
			}
			if cfg.Region != wantRegion {
				t.Errorf("cfg.Region = %q, want %q", cfg.Region, wantRegion)
			}
			if _, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
				t.Errorf("ListTables: %v", err)
			}
			if _, err := s3.NewFromConfig(cfg, S3Options).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
				t.Errorf("ListBuckets: %v", err)
			}

			stopped = true
			if err := srv.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if srv.cmd.ProcessState == nil {
				t.Fatal("process not reaped after Stop")
			}
			if err := srv.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			if _, err := srv.AWSConfig(ctx); err == nil {
				t.Error("AWSConfig after Stop: want error")
			}
		})
	}
}

func TestStartFails(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "missing python", opts: Options{Python: "/nonexistent/.venv/bin/python"}, want: "make venv"},
		{name: "missing script", opts: Options{Script: "/nonexistent/serve.py"}, want: "server script"},
		{name: "python without moto", opts: Options{Python: "/bin/false"}, want: "exited before it was ready"},
		{name: "unknown moto patch", opts: Options{Args: []string{"--without-patch", "no_such_patch"}}, want: "invalid choice: 'no_such_patch'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := Start(t.Context(), tt.opts)
			if err == nil {
				_ = srv.Stop()
				t.Fatal("Start: want error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestStartTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	srv, err := Start(ctx, Options{})
	if err == nil {
		_ = srv.Stop()
		t.Fatal("Start with canceled context: want error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start error = %v, want context.Canceled", err)
	}
}

func TestParseReady(t *testing.T) {
	tests := []struct {
		line   string
		want   string
		wantOK bool
	}{
		{line: "moto ready http://127.0.0.1:4566", want: "http://127.0.0.1:4566", wantOK: true},
		{line: "moto ready http://127.0.0.1", wantOK: false},
		{line: "some warning", wantOK: false},
		{line: "moto ready ftp://127.0.0.1:21", wantOK: false},
	}
	for _, tt := range tests {
		got, ok := parseReady(tt.line)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseReady(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.wantOK)
		}
	}
}
