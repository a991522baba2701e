package stack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// createBucket creates the bucket (or reuses it) and applies its configuration. Bucket policies
// (AWS::S3::BucketPolicy) are not applied: the template's deny-insecure-transport policy would, if
// moto enforced it, refuse every request over local plain HTTP.
func (r *Resources) createBucket(ctx context.Context, blobs *s3.Client, name string, b Bucket) (BucketInfo, error) {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if r.Region != "" && r.Region != "us-east-1" {
		// us-east-1 is the one region that rejects an explicit location constraint.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r.Region)}
	}
	_, err := blobs.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	switch {
	case err == nil, errors.As(err, &owned):
	case errors.As(err, &exists):
		// Taken; if it is ours (same moto, same account) we may use it.
		if _, herr := blobs.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); herr != nil {
			return BucketInfo{}, err
		}
	default:
		return BucketInfo{}, err
	}
	info := BucketInfo{Name: name, ARN: "arn:aws:s3:::" + name}

	if p := b.PublicAccessBlock; p != nil {
		_, err := blobs.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket: aws.String(name),
			PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
				BlockPublicAcls:       aws.Bool(p.BlockPublicAcls),
				BlockPublicPolicy:     aws.Bool(p.BlockPublicPolicy),
				IgnorePublicAcls:      aws.Bool(p.IgnorePublicAcls),
				RestrictPublicBuckets: aws.Bool(p.RestrictPublicBuckets),
			},
		})
		if err := r.optional(name+": public access block", err); err != nil {
			return info, err
		}
	}
	if b.ObjectOwnership != "" {
		_, err := blobs.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket: aws.String(name),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{
				{ObjectOwnership: types.ObjectOwnership(b.ObjectOwnership)},
			}},
		})
		if err := r.optional(name+": ownership controls", err); err != nil {
			return info, err
		}
	}
	if b.SSEAlgorithm != "" {
		def := &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryption(b.SSEAlgorithm)}
		if b.KMSMasterKeyID != "" {
			def.KMSMasterKeyID = aws.String(b.KMSMasterKeyID)
		}
		_, err := blobs.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: aws.String(name),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
				Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: def}},
			},
		})
		if err := r.optional(name+": default encryption", err); err != nil {
			return info, err
		}
	}
	if b.Versioning != "" {
		_, err := blobs.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(b.Versioning)},
		})
		if err != nil {
			return info, fmt.Errorf("versioning: %w", err)
		}
	}
	// CORS and lifecycle change what clients observe (browser uploads, expiry), so unlike the settings
	// above they are not optional.
	if len(b.CORSRules) > 0 {
		rules, err := r.sdkCORSRules(b.CORSRules)
		if err != nil {
			return info, err
		}
		_, err = blobs.PutBucketCors(ctx, &s3.PutBucketCorsInput{
			Bucket: aws.String(name), CORSConfiguration: &types.CORSConfiguration{CORSRules: rules},
		})
		if err != nil {
			return info, fmt.Errorf("cors: %w", err)
		}
	}
	if len(b.LifecycleRules) > 0 {
		_, err := blobs.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
			Bucket:                 aws.String(name),
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: sdkLifecycleRules(b.LifecycleRules)},
		})
		if err != nil {
			return info, fmt.Errorf("lifecycle: %w", err)
		}
	}
	return info, nil
}

func (r *Resources) sdkCORSRules(rules []CORSRule) ([]types.CORSRule, error) {
	out := make([]types.CORSRule, 0, len(rules))
	for _, c := range rules {
		origins, ok := r.ResolveList(c.AllowedOrigins)
		if !ok {
			return nil, fmt.Errorf("cors: cannot resolve AllowedOrigins %v", c.AllowedOrigins)
		}
		rule := types.CORSRule{
			AllowedMethods: c.AllowedMethods,
			AllowedOrigins: origins,
			AllowedHeaders: c.AllowedHeaders,
			ExposeHeaders:  c.ExposedHeaders,
		}
		if c.ID != "" {
			rule.ID = aws.String(c.ID)
		}
		if c.MaxAge > 0 {
			rule.MaxAgeSeconds = aws.Int32(int32(c.MaxAge))
		}
		out = append(out, rule)
	}
	return out, nil
}

// sdkLifecycleRules maps CloudFormation's rule-level Prefix to the Filter the S3 API now wants; an
// empty filter prefix means the whole bucket.
func sdkLifecycleRules(rules []LifecycleRule) []types.LifecycleRule {
	out := make([]types.LifecycleRule, 0, len(rules))
	for _, l := range rules {
		rule := types.LifecycleRule{
			Status: types.ExpirationStatus(l.Status),
			Filter: &types.LifecycleRuleFilter{Prefix: aws.String(l.Prefix)},
		}
		if l.ID != "" {
			rule.ID = aws.String(l.ID)
		}
		if l.ExpirationInDays > 0 {
			rule.Expiration = &types.LifecycleExpiration{Days: aws.Int32(int32(l.ExpirationInDays))}
		}
		if l.AbortIncompleteMultipartUploadDays > 0 {
			rule.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{
				DaysAfterInitiation: aws.Int32(int32(l.AbortIncompleteMultipartUploadDays)),
			}
		}
		if l.NoncurrentVersionExpirationInDays > 0 {
			rule.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{
				NoncurrentDays: aws.Int32(int32(l.NoncurrentVersionExpirationInDays)),
			}
		}
		out = append(out, rule)
	}
	return out
}
