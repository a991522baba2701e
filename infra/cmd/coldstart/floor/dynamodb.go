package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func dynamoDBCall(cfg aws.Config) call {
	db := dynamodb.NewFromConfig(cfg)
	return func(ctx context.Context) error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String("civicsnap"),
			Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "floor"}, "sk": &types.AttributeValueMemberS{Value: "floor"}},
		})
		return err
	}
}
