//go:build floor_departments

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
)

// sqsCall and secretsCall call SQS and Secrets Manager over their JSON protocols as shared/queue and
// shared/secretstore do: through awsrest, which the functions link in place of the SDK's clients.
func sqsCall(cfg aws.Config) call {
	c := awsrest.New(cfg, awsrest.SQS)
	return func(ctx context.Context) error {
		return c.CallJSON(ctx, awsrest.SQSJSON, "SendMessage", map[string]string{"QueueUrl": "floor", "MessageBody": "{}"}, nil)
	}
}

func secretsCall(cfg aws.Config) call {
	c := awsrest.New(cfg, awsrest.SecretsManager)
	return func(ctx context.Context) error {
		return c.CallJSON(ctx, awsrest.SecretsManagerJSON, "GetSecretValue", map[string]string{"SecretId": "floor"}, nil)
	}
}
