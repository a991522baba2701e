// Command accrual is the accrual Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/accrual/accrualfn"
)

func main() {
	fn, err := accrualfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("accrual: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
