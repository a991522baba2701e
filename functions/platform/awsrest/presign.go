package awsrest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/smithy-go/encoding/httpbinding"
)

// ObjectURL is the URL of key in bucket: path style (<endpoint>/<bucket>/<key>, which moto needs) or
// virtual-hosted (<bucket>.<endpoint host>/<key>, S3's default), the key escaped as the SDK escapes it.
func (c *Client) ObjectURL(bucket, key string, pathStyle bool) *url.URL {
	u := c.BucketURL(bucket, pathStyle)
	if key != "" {
		u.Path += "/" + key
		u.RawPath += "/" + httpbinding.EscapePath(key, false)
	}
	return u
}

// BucketURL is the bucket's URL, without a trailing slash (see ObjectURL). As the SDK does, it falls back
// to path style when the bucket cannot be a host name's label or the endpoint's host is an IP address.
func (c *Client) BucketURL(bucket string, pathStyle bool) *url.URL {
	u := c.Endpoint()
	if pathStyle || !hostLabel(bucket) || net.ParseIP(u.Hostname()) != nil {
		u.Path += "/" + bucket
	} else {
		u.Host = bucket + "." + u.Host
	}
	u.RawPath = httpbinding.EscapePath(u.Path, false)
	return u
}

// hostLabel says whether bucket can be the first label of a host name (S3's DNS-compatible bucket names,
// without dots, which a TLS wildcard certificate would not cover).
func hostLabel(bucket string) bool {
	if len(bucket) < 3 || len(bucket) > 63 || bucket[0] == '-' || bucket[len(bucket)-1] == '-' {
		return false
	}
	for _, r := range bucket {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// Presign returns req's URL signed in its query string for expires (SigV4 query signing, X-Amz-Expires),
// with payload hash UNSIGNED-PAYLOAD, as the SDK's presign clients sign S3 GETs. It makes no call.
func (c *Client) Presign(ctx context.Context, req *Request, expires time.Duration) (string, error) {
	if c.endpointErr != nil {
		return "", c.endpointErr
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("presign %s: credentials: %w", req.Operation, err)
	}
	u := *req.URL
	q := u.Query()
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	u.RawQuery = q.Encode()
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), nil)
	if err != nil {
		return "", err
	}
	signed, _, err := c.signer.PresignHTTP(ctx, creds, hr, UnsignedPayload, c.svc.Name, c.cfg.Region, c.now().UTC())
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", req.Operation, err)
	}
	return signed, nil
}

// PostPolicy is a presigned S3 POST: the form's URL and the fields to send with the file.
type PostPolicy struct {
	URL    string
	Fields map[string]string
}

// PresignPost signs an S3 POST policy for key in bucket valid for expires, with the extra conditions
// (content-length-range, exact fields) after the ones every policy carries — the document the SDK's
// PresignPostObject writes: algorithm, bucket, credential, date, the session token when there is one, the
// conditions, then the key; the signature is the SigV4 signing key's HMAC of the base64 document.
func (c *Client) PresignPost(ctx context.Context, bucket, key string, pathStyle bool, expires time.Duration, conditions []any) (PostPolicy, error) {
	if c.endpointErr != nil {
		return PostPolicy{}, c.endpointErr
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return PostPolicy{}, fmt.Errorf("presign post %s: credentials: %w", key, err)
	}
	now := c.now().UTC()
	date := now.Format("20060102T150405Z")
	scope := now.Format("20060102") + "/" + c.cfg.Region + "/" + c.svc.Name + "/aws4_request"
	credential := creds.AccessKeyID + "/" + scope
	conds := []any{
		map[string]string{"X-Amz-Algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"bucket": bucket},
		map[string]string{"X-Amz-Credential": credential},
		map[string]string{"X-Amz-Date": date},
	}
	if creds.SessionToken != "" {
		conds = append(conds, map[string]string{"X-Amz-Security-Token": creds.SessionToken})
	}
	conds = append(conds, conditions...)
	conds = append(conds, map[string]string{"key": key})
	doc, err := json.Marshal(map[string]any{"conditions": conds, "expiration": now.Add(expires).Format(time.RFC3339)})
	if err != nil {
		return PostPolicy{}, fmt.Errorf("presign post %s: %w", key, err)
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	fields := map[string]string{
		"X-Amz-Algorithm":  "AWS4-HMAC-SHA256",
		"X-Amz-Credential": credential,
		"X-Amz-Date":       date,
		"X-Amz-Signature":  hex.EncodeToString(hmacSHA256(signingKey(creds.SecretAccessKey, now, c.cfg.Region, c.svc.Name), policy)),
		"key":              key,
		"policy":           policy,
	}
	if creds.SessionToken != "" {
		fields["X-Amz-Security-Token"] = creds.SessionToken
	}
	return PostPolicy{URL: c.BucketURL(bucket, pathStyle).String(), Fields: fields}, nil
}

// signingKey is SigV4's derived key (AWS4<secret> → date → region → service → aws4_request).
func signingKey(secret string, t time.Time, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), t.Format("20060102"))
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
