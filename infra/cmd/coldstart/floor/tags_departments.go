//go:build floor_departments

package main

import "github.com/aws/aws-sdk-go-v2/aws"

func clients(cfg aws.Config) []call {
	return []call{dynamoDBCall(cfg), s3Call(cfg), sqsCall(cfg), secretsCall(cfg)}
}
