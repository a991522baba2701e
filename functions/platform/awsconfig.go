package platform

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/civicsnap/civicsnap/shared/fnconfig"
)

// ErrNoCredentials is returned when the environment carries no AWS credentials.
var ErrNoCredentials = errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: Lambda sets them " +
	"from the execution role, sam local from your profile; the local tools build their own configuration")

// ErrNoRegion is returned when the environment names no region.
var ErrNoRegion = errors.New("AWS_REGION is not set (Lambda and sam local set it)")

// ErrBadEndpoint is returned when AWS_ENDPOINT_URL is not an http(s) URL.
var ErrBadEndpoint = errors.New("AWS_ENDPOINT_URL is not an http(s) URL")

// AWSConfig builds the SDK configuration from what Lambda puts in a function's environment: AWS_REGION and
// the execution role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which
// stay the same for the sandbox's life; AWS_ENDPOINT_URL when set (moto). It reads no shared config or
// credentials file, so the SDK's config loader — and the SSO, SSO-OIDC, STS and sign-in clients it links for
// profiles — is not in a function's binary and its init is not in a cold start (issue 11). Profiles still
// work with sam local, which resolves them and passes these variables into the container.
func AWSConfig(env fnconfig.Env) (aws.Config, error) {
	region := env("AWS_REGION")
	if region == "" {
		region = env("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, ErrNoRegion
	}
	id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, ErrNoCredentials
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: aws.Credentials{
			AccessKeyID: id, SecretAccessKey: secret, SessionToken: env("AWS_SESSION_TOKEN"), Source: "Lambda environment",
		}}),
	}
	if u := env("AWS_ENDPOINT_URL"); u != "" {
		// Checked here, at start, since functions/platform/awsrest's clients would fail every call with it.
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return aws.Config{}, fmt.Errorf("%w: %q", ErrBadEndpoint, u)
		}
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}
