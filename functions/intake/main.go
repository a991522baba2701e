// Command intake is the report-intake Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
)

func main() {
	fn, err := intakefn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("intake: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
