// Command photosweep is the photo sweep Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/photosweep/photosweepfn"
)

func main() {
	fn, err := photosweepfn.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("photosweep: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
