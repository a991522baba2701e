// Command redeem is the redeem Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/redeem/redeemfn"
)

func main() {
	fn, err := redeemfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("redeem: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
