// Command dispatch is the dispatch Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
)

func main() {
	fn, err := dispatchfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("dispatch: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
