//go:build floor_departments

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func sqsCall(cfg aws.Config) call {
	c := sqs.NewFromConfig(cfg)
	return func(ctx context.Context) error {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("floor"), MessageBody: aws.String("{}")})
		return err
	}
}

func secretsCall(cfg aws.Config) call {
	c := secretsmanager.NewFromConfig(cfg)
	return func(ctx context.Context) error {
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("floor")})
		return err
	}
}
