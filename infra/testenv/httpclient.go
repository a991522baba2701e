package testenv

import (
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// httpClient is the HTTP client every Env's AWS clients share (and Options.WrapHTTP wraps): the SDK's
// default, made explicit so there is a client to wrap.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient()
}
