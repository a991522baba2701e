// Package blobstore keeps photos in S3: presigned POST uploads straight from the app, checks of what was
// uploaded, and storage under the report.
package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Store is the S3-backed report.PhotoStore.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// New returns a Store over bucket; the client is built once per container by the caller.
func New(client *s3.Client, bucket string) *Store {
	return &Store{client: client, presign: s3.NewPresignClient(client), bucket: bucket}
}

// PresignUpload returns a POST policy that S3 enforces: exactly this key, this Content-Type, a size from 1
// byte to maxBytes, valid for ttl.
func (s *Store) PresignUpload(ctx context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (report.Upload, error) {
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	req, err := s.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key}, func(o *s3.PresignPostOptions) {
		o.Expires = ttl
		o.Conditions = []any{
			[]any{"content-length-range", 1, maxBytes},
			map[string]string{"Content-Type": contentType},
		}
	})
	if err != nil {
		return report.Upload{}, fmt.Errorf("presign post %s: %w", key, err)
	}
	fields := make(map[string]string, len(req.Values)+1)
	for k, v := range req.Values {
		fields[k] = v
	}
	fields["Content-Type"] = contentType
	return report.Upload{Key: key, URL: req.URL, Fields: fields, ExpiresAt: expires}, nil
}

// Get reads the object at key if it is at most maxBytes long. The size is checked from the response
// headers before the body is read, so an oversized object costs no memory.
func (s *Store) Get(ctx context.Context, key string, maxBytes int64) (report.Object, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if notFound(err) {
			return report.Object{}, report.ErrPhotoNotFound.With("photo %q was not uploaded (or its upload expired)", key)
		}
		return report.Object{}, translate(fmt.Sprintf("get object %s", key), err)
	}
	defer out.Body.Close()
	if aws.ToInt64(out.ContentLength) > maxBytes {
		return report.Object{}, report.ErrPhotoTooLarge.With("photo %q is larger than %d bytes", key, maxBytes)
	}
	data, err := readBody(out.Body, aws.ToInt64(out.ContentLength), maxBytes)
	if errors.Is(err, errTooLarge) {
		return report.Object{}, report.ErrPhotoTooLarge.With("photo %q is larger than %d bytes", key, maxBytes)
	}
	if err != nil {
		return report.Object{}, apperr.ErrOutcomeUnknown.Wrap(fmt.Errorf("read object %s: %w", key, err))
	}
	return report.Object{Data: data, ContentType: aws.ToString(out.ContentType), ETag: aws.ToString(out.ETag)}, nil
}

var errTooLarge = errors.New("object larger than allowed")

// readBody reads a body of the announced size into one buffer of exactly that size (io.ReadAll would grow
// its buffer by copying, allocating about twice a photo's size); without a size it reads at most maxBytes+1
// bytes. A body longer than maxBytes is errTooLarge.
func readBody(body io.Reader, size, maxBytes int64) ([]byte, error) {
	if size <= 0 || size > maxBytes {
		data, err := io.ReadAll(io.LimitReader(body, maxBytes+1))
		if err == nil && int64(len(data)) > maxBytes {
			err = errTooLarge
		}
		return data, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, err
	}
	// More bytes than announced: refuse rather than keep a truncated photo.
	var one [1]byte
	if n, _ := body.Read(one[:]); n > 0 {
		return nil, errTooLarge
	}
	return data, nil
}

// Copy copies src to dst inside the bucket (CopyObject: the bytes never leave S3) if src's entity tag is
// still etag, with contentType; report.ErrPhotoChanged if src was replaced since. S3 checks the condition
// (x-amz-copy-source-if-match); the copy's own entity tag is checked too, for stores that ignore the
// condition (moto does): a mismatch removes the copy. (With the bucket's SSE-S3 encryption an entity tag
// is the content's MD5, so a faithful copy of a single-part upload has its source's.)
func (s *Store) Copy(ctx context.Context, src, dst, etag, contentType string) error {
	out, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &s.bucket, Key: &dst, CopySource: aws.String(copySource(s.bucket, src)), CopySourceIfMatch: &etag,
		ContentType: &contentType, MetadataDirective: types.MetadataDirectiveReplace,
	})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "PreconditionFailed" {
			return report.ErrPhotoChanged
		}
		if notFound(err) {
			return report.ErrPhotoChanged // gone since it was read
		}
		return translate(fmt.Sprintf("copy object %s to %s", src, dst), err)
	}
	if out.CopyObjectResult == nil || aws.ToString(out.CopyObjectResult.ETag) != etag {
		if err := s.Delete(ctx, dst); err != nil {
			return err
		}
		return report.ErrPhotoChanged
	}
	return nil
}

// copySource is CopyObject's source, bucket/key with each key segment URL-encoded as S3 requires.
func copySource(bucket, key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return bucket + "/" + strings.Join(parts, "/")
}

// Put stores data at key.
func (s *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(data), ContentType: &contentType,
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return translate(fmt.Sprintf("put object %s", key), err)
	}
	return nil
}

// Delete removes keys with one DeleteObjects call (S3 takes up to 1,000 keys a call).
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	objs := make([]types.ObjectIdentifier, len(keys))
	for i := range keys {
		objs[i] = types.ObjectIdentifier{Key: &keys[i]}
	}
	out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
	if err != nil {
		return translate(fmt.Sprintf("delete %d objects", len(keys)), err)
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("delete %s: %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
	}
	return nil
}

// translate maps S3's transient failures to the domain's: a call S3 never answered (a dropped connection,
// the deadline) to apperr.ErrOutcomeUnknown, S3 asking to slow down or failing on its side to
// apperr.ErrThrottled — so a request path answers 503 with Retry-After rather than 500.
func translate(op string, err error) error {
	cause := fmt.Errorf("%s: %w", op, err)
	var send *smithyhttp.RequestSendError
	var canceled *smithy.CanceledError
	var deser *smithy.DeserializationError
	if errors.As(err, &send) || errors.As(err, &canceled) || errors.As(err, &deser) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return apperr.ErrOutcomeUnknown.Wrap(cause)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout":
			return apperr.ErrThrottled.Wrap(cause)
		}
	}
	return cause
}

func notFound(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NotFound") {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
