// Command departments is the departments Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/departments/departmentsfn"
)

func main() {
	fn, err := departmentsfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("departments: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
