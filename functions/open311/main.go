// Command open311 is the Open311 GeoReport v2 Lambda function (and mySociety's updates extension).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/open311/open311fn"
)

func main() {
	fn, err := open311fn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("open311: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
