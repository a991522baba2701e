// Command web is the web clients' Lambda function: the citizen app, the department workbench and the
// supermarket counter, static and embedded.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/civicsnap/civicsnap/functions/web/webfn"
)

func main() {
	fn, err := webfn.FromEnv(os.Getenv)
	if err != nil {
		slog.Error("web: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Handle)
}
