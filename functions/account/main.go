// Command account is the account Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/account/accountfn"
)

func main() {
	fn, err := accountfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("account: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
