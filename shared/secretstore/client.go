package secretstore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
)

// Client reads secrets with Secrets Manager's GetSecretValue over its JSON protocol, through awsrest
// (signed with the SDK's SigV4 signer, retried by the SDK's standard retryer) rather than the SDK's Secrets
// Manager client, which the signing functions' binaries paid for (issue 11). Build it once per container.
type Client struct {
	sm *awsrest.Client
}

// NewClient returns a client with cfg's credentials, region, endpoint, HTTP client and retryer.
func NewClient(cfg aws.Config) *Client { return &Client{sm: awsrest.New(cfg, awsrest.SecretsManager)} }

// SecretString returns the string value of the secret named ref (a name or ARN), its current version.
func (c *Client) SecretString(ctx context.Context, ref string) (string, error) {
	var out struct{ SecretString *string }
	if err := c.sm.CallJSON(ctx, awsrest.SecretsManagerJSON, "GetSecretValue", struct{ SecretId string }{ref}, &out); err != nil {
		return "", err
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s has no string value", ref)
	}
	return *out.SecretString, nil
}
