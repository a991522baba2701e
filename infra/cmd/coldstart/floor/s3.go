//go:build floor_photos || floor_departments

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func s3Call(cfg aws.Config) call {
	c := s3.NewFromConfig(cfg)
	return func(ctx context.Context) error {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("civicsnap-photos"), Key: aws.String("floor")})
		return err
	}
}
