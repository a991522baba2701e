package awsrest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// JSONProtocol is how a service takes JSON calls: the X-Amz-Target prefix and the content type's version.
type JSONProtocol struct {
	TargetPrefix string // "AmazonSQS", "secretsmanager"
	Version      string // "1.0" (SQS), "1.1" (Secrets Manager)
	// QueryMode asks a query-compatible service (SQS) for its query error codes
	// (AWS.SimpleQueueService.NonExistentQueue), as the SDK does.
	QueryMode bool
}

// The JSON protocols of the services called through this package.
var (
	SQSJSON            = JSONProtocol{TargetPrefix: "AmazonSQS", Version: "1.0", QueryMode: true}
	SecretsManagerJSON = JSONProtocol{TargetPrefix: "secretsmanager", Version: "1.1"}
)

// CallJSON makes operation op of an AWS JSON protocol service: in is marshalled as the body, POSTed to the
// endpoint's root with X-Amz-Target, and the answer unmarshalled into out (nil: ignored).
func (c *Client) CallJSON(ctx context.Context, p JSONProtocol, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", c.svc.ID, op, err)
	}
	u := c.Endpoint()
	u.Path = u.Path + "/"
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-"+p.Version)
	h.Set("X-Amz-Target", p.TargetPrefix+"."+op)
	if p.QueryMode {
		h.Set("X-Amzn-Query-Mode", "true")
	}
	resp, err := c.Do(ctx, &Request{Operation: op, Method: http.MethodPost, URL: u, Header: h, Body: body})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s.%s: decode answer: %w", c.svc.ID, op, err)
	}
	return nil
}
