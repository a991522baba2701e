// Command notify is the notify Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
)

func main() {
	fn, err := notifyfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("notify: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
