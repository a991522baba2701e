// Command reconciler is the reconciler Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/reconciler/reconcilerfn"
)

func main() {
	fn, err := reconcilerfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("reconciler: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
