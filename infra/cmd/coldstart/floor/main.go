// Command floor is a hello-world that links the AWS clients named by its build tags, built and measured by
// go run ./infra/cmd/coldstart beside the functions (issue 11): the cold start and binary size a function
// cannot go under while it uses the AWS SDK's clients, whatever its own code does. Each client is built the
// way the functions build theirs (the configuration from Lambda's variables, as platform.AWSConfig builds
// it; importing platform would link the app's packages) and one of its operations is reachable
// from the handler (GET /v1/floor makes one call per client), so the client's operation machinery is linked
// as in a function; GET /v1/health makes no call, as the HTTP functions' first invocation does not.
//
// Builds (one binary each): no tag, DynamoDB only (every function's client); tag floor_photos, DynamoDB and
// S3 (intake, open311, photosweep); tag floor_departments, DynamoDB, S3, SQS and Secrets Manager (departments).
// S3, SQS and Secrets Manager are called as the functions call them, through functions/platform/awsrest
// (the SDK's signer and retryer; not the SDK's generated clients, issue 11).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// call is one reachable operation per linked client.
type call func(context.Context) error

func main() {
	cfg := aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: aws.Credentials{
			AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "Lambda environment",
		}}),
	}
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	calls := clients(cfg)
	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if ev.RawPath == "/v1/floor" {
			// What the call answers is not the point (coldstart's stub refuses every call): that it was
			// made, through the client's whole request path, is. coldstart counts the calls.
			for _, c := range calls {
				_ = c(ctx)
			}
		}
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"status":"ok"}`,
		}, nil
	})
}
