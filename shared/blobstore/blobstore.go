// Package blobstore keeps photos in S3, in a versioned bucket: presigned POST uploads straight from the
// app, reads of what was uploaded (with its version id), stripped photos written as new versions of the
// same key, presigned GETs of one version, and the sweeper's listing and deletion of versions.
package blobstore

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Store is the S3-backed report.PhotoStore. It calls S3's REST API through awsrest (signed with the SDK's
// SigV4 signer, retried by the SDK's standard retryer) rather than the SDK's S3 client, whose 1.1 MB put the
// photo functions' binaries over 1.5× hello-world's size (issue 11).
type Store struct {
	s3        *awsrest.Client
	bucket    string
	pathStyle bool
	pageSize  int // ListVersions' max-keys; 0 leaves S3's 1,000
}

// New returns a Store over bucket with cfg's credentials, region, endpoint, HTTP client and retryer;
// pathStyle addresses the bucket in the path (moto) rather than the host name. Build it once per container;
// an endpoint that is no http(s) URL is an error.
func New(cfg aws.Config, bucket string, pathStyle bool) (*Store, error) {
	c := awsrest.New(cfg, awsrest.S3)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return &Store{s3: c, bucket: bucket, pathStyle: pathStyle}, nil
}

// ownerMeta is the object metadata naming the uploader (x-amz-meta-owner): the key names no one, so that
// a photo's key may be shown to departments and on Open311 without telling who took it. checkedMeta
// (x-amz-meta-checked: "true") marks a version a photo check wrote (report.Object.Checked).
const (
	ownerMeta   = "owner"
	checkedMeta = "checked"
)

// PresignUpload returns a POST policy that S3 enforces: exactly this key, this Content-Type, the owner's
// x-amz-meta-owner, a size from 1 byte to maxBytes, valid for ttl.
func (s *Store) PresignUpload(ctx context.Context, key, owner, contentType string, maxBytes int64, ttl time.Duration) (report.Upload, error) {
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	post, err := s.s3.PresignPost(ctx, s.bucket, key, s.pathStyle, ttl, []any{
		[]any{"content-length-range", 1, maxBytes},
		map[string]string{"Content-Type": contentType},
		map[string]string{"x-amz-meta-" + ownerMeta: owner},
	})
	if err != nil {
		return report.Upload{}, fmt.Errorf("presign post %s: %w", key, err)
	}
	fields := post.Fields
	fields["Content-Type"] = contentType
	fields["x-amz-meta-"+ownerMeta] = owner
	return report.Upload{Key: key, URL: post.URL, Fields: fields, ExpiresAt: expires}, nil
}

// Get reads the current version of the object at key if it is at most maxBytes long, with its version id.
// The size is checked from the response headers before the body is read, so an oversized object costs no
// memory.
func (s *Store) Get(ctx context.Context, key string, maxBytes int64) (report.Object, error) {
	// identity: Go's transport would otherwise ask for gzip and hide the announced size.
	resp, err := s.s3.Do(ctx, &awsrest.Request{Operation: "GetObject", Method: http.MethodGet,
		URL: s.s3.ObjectURL(s.bucket, key, s.pathStyle), Header: http.Header{"Accept-Encoding": {"identity"}}, Stream: true})
	if err != nil {
		if notFound(err) {
			return report.Object{}, report.ErrPhotoNotFound.With("photo %q was not uploaded (or its upload expired)", key)
		}
		return report.Object{}, translate(fmt.Sprintf("get object %s", key), err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > maxBytes {
		return report.Object{}, report.ErrPhotoTooLarge.With("photo %q is larger than %d bytes", key, maxBytes)
	}
	data, err := readBody(resp.Body, resp.ContentLength, maxBytes)
	if errors.Is(err, errTooLarge) {
		return report.Object{}, report.ErrPhotoTooLarge.With("photo %q is larger than %d bytes", key, maxBytes)
	}
	if err != nil {
		return report.Object{}, apperr.ErrOutcomeUnknown.Wrap(fmt.Errorf("read object %s: %w", key, err))
	}
	h := resp.Header
	return report.Object{Data: data, ContentType: h.Get("Content-Type"), VersionID: versionID(h.Get("X-Amz-Version-Id")),
		Owner: h.Get(metaHeader + ownerMeta), Checked: h.Get(metaHeader+checkedMeta) == "true"}, nil
}

// metaHeader prefixes an object's user metadata in S3's headers.
const metaHeader = "X-Amz-Meta-"

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

// versionID is S3's version id, "" when the bucket keeps none (S3 says "null" for an object written
// before versioning was enabled, which is not a version a GET can name apart from the others).
func versionID(id string) string {
	if id != "null" {
		return id
	}
	return ""
}

// Put stores data at key as owner's (a new version), as an uploader would.
func (s *Store) Put(ctx context.Context, key, owner, contentType string, data []byte) error {
	_, err := s.put(ctx, key, contentType, data, map[string]string{ownerMeta: owner})
	return err
}

// PutVersion stores a photo check's bytes as a new version of key, owner's and marked checked, and returns
// its version id ("" if the bucket keeps no versions).
func (s *Store) PutVersion(ctx context.Context, key, owner, contentType string, data []byte) (string, error) {
	return s.put(ctx, key, contentType, data, map[string]string{ownerMeta: owner, checkedMeta: "true"})
}

func (s *Store) put(ctx context.Context, key, contentType string, data []byte, meta map[string]string) (string, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	for k, v := range meta {
		h.Set(metaHeader+k, v)
	}
	resp, err := s.s3.Do(ctx, &awsrest.Request{Operation: "PutObject", Method: http.MethodPut,
		URL: s.s3.ObjectURL(s.bucket, key, s.pathStyle), Header: h, Body: data})
	if err != nil {
		return "", translate(fmt.Sprintf("put object %s", key), err)
	}
	resp.Body.Close()
	return versionID(resp.Header.Get("X-Amz-Version-Id")), nil
}

// PresignGet returns a URL that reads exactly version versionID of key for ttl ("" reads the current
// version: photos stored before versions were recorded). Every reader of a report's photo goes through
// it with the version the report records, so a later upload to the key is never what a reader sees.
func (s *Store) PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error) {
	u := s.s3.ObjectURL(s.bucket, key, s.pathStyle)
	if versionID != "" {
		u.RawQuery = url.Values{"versionId": {versionID}}.Encode()
	}
	signed, err := s.s3.Presign(ctx, &awsrest.Request{Operation: "GetObject", Method: http.MethodGet, URL: u}, ttl)
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return signed, nil
}

// maxDelete is how many objects one DeleteObjects call takes.
const maxDelete = 1000

// DeleteVersions removes the named versions with DeleteObjects, 1,000 a call (deleting is free in S3; a
// version removed by name leaves no deletion marker). A version already gone is not an error, so a call
// sent twice is harmless.
func (s *Store) DeleteVersions(ctx context.Context, versions ...report.PhotoVersion) error {
	for len(versions) > 0 {
		n := min(len(versions), maxDelete)
		del := deleteRequest{Xmlns: s3Namespace, Quiet: true, Objects: make([]objectID, n)}
		for i, v := range versions[:n] {
			del.Objects[i] = objectID{Key: v.Key, VersionID: v.VersionID}
		}
		body, err := xml.Marshal(del)
		if err != nil {
			return err
		}
		// S3 refuses a DeleteObjects without an integrity header; Content-MD5 is the one every S3 (and moto)
		// takes.
		sum := md5.Sum(body)
		h := http.Header{}
		h.Set("Content-Type", "application/xml")
		h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		u := s.s3.BucketURL(s.bucket, s.pathStyle)
		u.RawQuery = "delete="
		var out deleteResult
		if err := s.callXML(ctx, &awsrest.Request{Operation: "DeleteObjects", Method: http.MethodPost, URL: u, Header: h, Body: body}, &out); err != nil {
			return translate(fmt.Sprintf("delete %d objects", n), err)
		}
		for _, e := range out.Errors {
			if e.Code != "NoSuchKey" && e.Code != "NoSuchVersion" {
				return fmt.Errorf("delete %s version %s: %s %s", e.Key, e.VersionID, e.Code, e.Message)
			}
		}
		versions = versions[n:]
	}
	return nil
}

// ListVersions calls each with the versions and deletion markers under prefix, a page (ListObjectVersions,
// up to 1,000) at a time.
func (s *Store) ListVersions(ctx context.Context, prefix string, each func([]report.PhotoVersion) error) error {
	var keyMarker, versionMarker string
	for {
		q := url.Values{"versions": {""}, "prefix": {prefix}}
		if s.pageSize > 0 {
			q.Set("max-keys", strconv.Itoa(s.pageSize))
		}
		if keyMarker != "" {
			q.Set("key-marker", keyMarker)
		}
		if versionMarker != "" {
			q.Set("version-id-marker", versionMarker)
		}
		u := s.s3.BucketURL(s.bucket, s.pathStyle)
		u.RawQuery = q.Encode()
		var out listVersionsResult
		if err := s.callXML(ctx, &awsrest.Request{Operation: "ListObjectVersions", Method: http.MethodGet, URL: u}, &out); err != nil {
			return translate(fmt.Sprintf("list versions under %s", prefix), err)
		}
		page := make([]report.PhotoVersion, 0, len(out.Versions)+len(out.DeleteMarkers))
		for _, v := range out.Versions {
			page = append(page, report.PhotoVersion{Key: v.Key, VersionID: versionID(v.VersionID)})
		}
		for _, m := range out.DeleteMarkers {
			page = append(page, report.PhotoVersion{Key: m.Key, VersionID: versionID(m.VersionID)})
		}
		if len(page) > 0 {
			if err := each(page); err != nil {
				return err
			}
		}
		if !out.IsTruncated {
			return nil
		}
		if out.NextKeyMarker == "" && out.NextVersionIDMarker == "" {
			return fmt.Errorf("list versions under %s: a truncated page names no next marker", prefix)
		}
		keyMarker, versionMarker = out.NextKeyMarker, out.NextVersionIDMarker
	}
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
