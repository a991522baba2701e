//go:build floor_photos || floor_departments

package main

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
)

// s3Call makes an S3 call as shared/blobstore makes its calls: through awsrest, which the functions link
// in place of the SDK's S3 client (issue 11).
func s3Call(cfg aws.Config) call {
	c := awsrest.New(cfg, awsrest.S3)
	return func(ctx context.Context) error {
		resp, err := c.Do(ctx, &awsrest.Request{Operation: "HeadObject", Method: http.MethodHead, URL: c.ObjectURL("civicsnap-photos", "floor", true)})
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
}
