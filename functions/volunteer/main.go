// Command volunteer is the volunteer Lambda function (志愿圈).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/volunteer/volunteerfn"
)

func main() {
	fn, err := volunteerfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("volunteer: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
