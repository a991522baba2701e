package awsrest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// Error is an AWS service's error answer. It is a smithy.APIError (the interface the SDK's errors
// implement) and carries the HTTP status, so the standard retryer and the adapters read it as they read
// the SDK clients' errors: by code (SlowDown, ThrottlingException, NoSuchKey, ResourceNotFoundException …)
// and by status (5xx).
type Error struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("api error %s: %s (HTTP %d, request id %s)", e.Code, e.Message, e.StatusCode, e.RequestID)
}

// ErrorCode is the service's error code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message.
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault it was: the server's for a 5xx, the client's otherwise.
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode is the answer's HTTP status.
func (e *Error) HTTPStatusCode() int { return e.StatusCode }

var _ smithy.APIError = (*Error)(nil)

// decodeError reads an error answer: S3's XML <Error><Code>, the query protocol's
// <ErrorResponse><Error><Code>, or the JSON protocols' __type (SQS's query-compatible code from
// x-amzn-query-error first, as the SDK reads it). An answer without a body (a HEAD, a proxy's) is named
// after its status, as the SDK names it (404 NotFound).
func decodeError(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amz-Request-Id")}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Amzn-Requestid")
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '<':
		var x struct {
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
			Error     struct {
				Code    string
				Message string
			}
		}
		if xml.Unmarshal(trimmed, &x) == nil {
			e.Code, e.Message = x.Code, x.Message
			if e.Code == "" {
				e.Code, e.Message = x.Error.Code, x.Error.Message
			}
			if x.RequestID != "" {
				e.RequestID = x.RequestID
			}
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var j struct {
			Type     string `json:"__type"`
			Code     string `json:"code"`
			Message  string `json:"message"`
			MessageU string `json:"Message"`
		}
		if json.Unmarshal(trimmed, &j) == nil {
			e.Code, e.Message = j.Type, j.Message
			if e.Code == "" {
				e.Code = j.Code
			}
			if e.Message == "" {
				e.Message = j.MessageU
			}
		}
	}
	if e.Code == "" {
		e.Code = resp.Header.Get("X-Amzn-Errortype")
	}
	if q := resp.Header.Get("X-Amzn-Query-Error"); q != "" {
		e.Code, _, _ = strings.Cut(q, ";")
	}
	e.Code = sanitizeCode(e.Code)
	if e.Code == "" {
		e.Code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
		if e.Code == "" {
			e.Code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// sanitizeCode strips a JSON error type to its name, as the SDK does: "com.amazon.coral#Throttling:http://…"
// is Throttling.
func sanitizeCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return strings.TrimSpace(code)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
