// Command admin is the admin Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/admin/adminfn"
)

func main() {
	fn, err := adminfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("admin: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
