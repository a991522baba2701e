// Command kpi is the kpi Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/kpi/kpifn"
)

func main() {
	fn, err := kpifn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("kpi: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
