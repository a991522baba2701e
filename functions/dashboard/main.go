// Command dashboard is the dashboard Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/dashboard/dashboardfn"
)

func main() {
	fn, err := dashboardfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("dashboard: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
