// Command hello is the baseline of the cold-start measurement (go run ./infra/cmd/coldstart): the smallest
// Go Lambda function, built with the same flags and aws-lambda-go version as the real ones. It answers an
// API Gateway event with the health route's body so both sides of a pair do the same work per invocation.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"status":"ok"}`,
		}, nil
	})
}
