// Command sweeper is the sweeper Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/sweeper/sweeperfn"
)

func main() {
	fn, err := sweeperfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("sweeper: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
