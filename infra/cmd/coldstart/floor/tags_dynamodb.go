//go:build !floor_photos && !floor_departments

package main

import "github.com/aws/aws-sdk-go-v2/aws"

func clients(cfg aws.Config) []call { return []call{dynamoDBCall(cfg)} }
