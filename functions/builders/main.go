// Command builders is the builders' home Lambda function (建设者之家).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
)

func main() {
	fn, err := buildersfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("builders: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
