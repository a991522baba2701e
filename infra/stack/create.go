package stack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// defaultAccountID is moto's account; Create reads the real one from the first ARN it gets back.
const defaultAccountID = "123456789012"

// Create makes the template's tables, buckets and queues on the AWS endpoint cfg points at (moto), named
// prefix + "-" + the lower-case logical id (FIFO queues add ".fifo"), and returns what it made. Declared
// names (TableName, BucketName, QueueName) are ignored, so several stacks can share one moto. Resources
// whose Condition is false are skipped; parameters take their defaults.
//
// Create is idempotent: what already exists is reused and its configuration applied again, and a table
// whose keys or indexes differ from the template is an error rather than silently kept.
//
// Against moto, S3 needs path-style addressing: pass motoserver.S3Options (or equivalent) as s3opts.
func (t *Template) Create(ctx context.Context, cfg aws.Config, prefix string, s3opts ...func(*s3.Options)) (*Resources, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	r := &Resources{
		Prefix:     prefix,
		Region:     cfg.Region,
		AccountID:  defaultAccountID,
		Parameters: map[string]string{},
		Tables:     map[string]TableInfo{},
		Buckets:    map[string]BucketInfo{},
		Queues:     map[string]QueueInfo{},
		tmpl:       t,
	}
	for name, p := range t.Parameters {
		if p.HasDefault {
			r.Parameters[name] = p.Default
		}
	}

	db := dynamodb.NewFromConfig(cfg)
	for _, id := range slices.Sorted(maps.Keys(t.Tables)) {
		tbl := t.Tables[id]
		if ok, err := r.exists(tbl.Condition); err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("create table %s: %w", id, err)
			}
			continue
		}
		info, err := r.createTable(ctx, db, physicalName(prefix, id), tbl)
		if err != nil {
			return nil, fmt.Errorf("create table %s: %w", id, err)
		}
		r.Tables[id] = info
		if acct := arnAccount(info.ARN); acct != "" {
			r.AccountID = acct
		}
	}

	blobs := s3.NewFromConfig(cfg, s3opts...)
	for _, id := range slices.Sorted(maps.Keys(t.Buckets)) {
		b := t.Buckets[id]
		if ok, err := r.exists(b.Condition); err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("create bucket %s: %w", id, err)
			}
			continue
		}
		info, err := r.createBucket(ctx, blobs, physicalName(prefix, id), b)
		if err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", id, err)
		}
		r.Buckets[id] = info
	}

	if err := r.createQueues(ctx, sqs.NewFromConfig(cfg)); err != nil {
		return nil, err
	}
	return r, nil
}

// checkPrefix keeps names valid for all three services: S3 is the strictest (lower case, digits,
// hyphens, at most 63 characters in all).
func checkPrefix(prefix string) error {
	const maxPrefix = 40 // leaves room for the logical id within S3's 63 characters
	if len(prefix) > maxPrefix {
		return fmt.Errorf("create stack: prefix %q is longer than %d characters", prefix, maxPrefix)
	}
	for i, c := range prefix {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return fmt.Errorf("create stack: prefix %q: want lower-case letters, digits and inner hyphens", prefix)
		}
	}
	return nil
}

// physicalName is the stable name of a resource: prefix-logicalid in lower case.
func physicalName(prefix, logicalID string) string {
	if prefix == "" {
		return strings.ToLower(logicalID)
	}
	return prefix + "-" + strings.ToLower(logicalID)
}

// arnAccount returns the account field of an ARN (arn:partition:service:region:account:resource).
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// unsupported reports an error by which moto says it does not implement an operation or setting.
func unsupported(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NotImplemented", "NotImplementedError", "UnsupportedOperation":
			return true
		}
	}
	var respErr *awshttp.ResponseError
	return errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusNotImplemented
}

// optional runs a configuration step that only shapes behaviour moto does not enforce (encryption,
// backups, ownership); if moto rejects it as unsupported, the step is recorded in Skipped instead of
// failing the whole stack. moto 5.2.5 accepts every step the civicsnap template needs.
func (r *Resources) optional(what string, err error) error {
	if err == nil {
		return nil
	}
	if unsupported(err) {
		r.Skipped = append(r.Skipped, fmt.Sprintf("%s: %v", what, err))
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
