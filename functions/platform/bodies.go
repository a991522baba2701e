package platform

import (
	"context"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// requestBodiesID names the middleware SafeRequestBodies adds.
const requestBodiesID = "civicsnap-request-body-without-writeto"

// SafeRequestBodies is an APIOption for the SDK's clients: it sends each attempt's request body through a
// reader that does not expose io.WriterTo. Without it a call can fail with "use of closed network
// connection" while it reads an answer the service sent in full (seen as flakes under load, e.g. kpifn's
// TestKPIsOfAGeneratedMonth, and in the local stack), and the SDK then retries it, so a write may be
// applied twice. The cause is in smithy-go (v1.28.9) meeting net/http:
//
//   - smithy wraps the body in a "safe" reader and closes it as soon as the HTTP client returns the
//     answer's headers (transport/http/client.go), since net/http may still hold the body;
//   - net/http writes a body of known length, then copies what is left of it to io.Discard to check
//     there is nothing more (transfer.go writeBody) — with the body's WriteTo when it has one;
//   - the safe reader's WriteTo returns io.EOF once closed (a Read may, a WriteTo must not: io.Copy
//     passes WriteTo's error on), so when the service answered while the transport's writer goroutine
//     had not yet made that check (the request was on the wire; the goroutine was descheduled: load), the
//     write "fails" with io.EOF and the transport closes the connection under the answer being read.
//
// Without WriteTo, net/http reads the closed body, gets io.EOF from Read and copies nothing more: the write
// succeeds. The body, its length and its rewinding for retries are unchanged. A real Lambda is exposed
// too (a 256 MB function has a fraction of a CPU; DynamoDB answers in a few ms).
func SafeRequestBodies(stack *middleware.Stack) error {
	if _, ok := stack.Deserialize.Get(requestBodiesID); ok {
		return nil
	}
	// Innermost in the Deserialize step: the last change to the request before the HTTP client sends it,
	// after signing (which read the stream and rewound it) and once per attempt.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(requestBodiesID,
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if s, ok := req.GetStream().(io.ReadSeeker); ok {
					if _, ok := s.(io.WriterTo); ok {
						r, err := req.SetStream(readSeeker{s})
						if err != nil {
							return middleware.DeserializeOutput{}, middleware.Metadata{}, err
						}
						r.ContentLength = req.ContentLength
						in.Request = r
					}
				}
			}
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}

// readSeeker is a request stream with only Read and Seek (Seek rewinds it for a retry and measures it).
type readSeeker struct{ io.ReadSeeker }
