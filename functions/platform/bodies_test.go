package platform_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/civicsnap/civicsnap/functions/platform"
)

// answerDuringWrite plays, deterministically, the interleaving behind the "use of closed network
// connection" flakes: the request reaches the service and its answer's headers reach the SDK while the
// transport's writer goroutine is still inside writing the request (it has sent the body, not yet made its
// final check of it); the SDK closes the request body as the headers arrive; then the writer finishes; and
// only then does the rest of the answer arrive. It returns the error of a GetItem made that way and the
// error net/http's writer reported for the request.
func answerDuringWrite(t *testing.T, apiOptions ...func(*middleware.Stack) error) (callErr, writeErr error) {
	t.Helper()
	const item = `{"Item":{"pk":{"S":"REPORT#1"},"sk":{"S":"META"},"pad":{"S":"%s"}}}`
	answer := fmt.Sprintf(item, strings.Repeat("x", 4096))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	headSent, proceed := make(chan struct{}), make(chan struct{})
	go func() { // the service: the whole request, then half the answer, then the rest when told
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		half := len(answer) / 2
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", len(answer), answer[:half])
		close(headSent)
		<-proceed
		_, _ = io.WriteString(c, answer[half:])
		time.Sleep(100 * time.Millisecond) // the client reads before the connection closes
	}()

	// The writer goroutine is held after its second write (the headers go first: a body net/http does not
	// know to be in memory is sent after them), i.e. with the whole request sent, until the SDK has the
	// answer's headers and has closed the request body.
	release, closed := make(chan struct{}), make(chan struct{})
	var closeOnce sync.Once
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &gatedConn{Conn: c, release: release, closed: func() { closeOnce.Do(func() { close(closed) }) }}, nil
	}
	wrote := make(chan struct{})
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		writeErr = i.Err
		close(wrote)
	}})
	wait := func(c <-chan struct{}, what string) {
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s in 10 s: net/http or smithy-go no longer work as this test assumes", what)
		}
	}
	// Innermost of all: runs once the HTTP client returned the answer's headers and smithy closed the
	// request body, before the SDK reads the answer's body.
	order := func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("test-order",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				wait(headSent, "answer from the service")
				close(release)
				wait(wrote, "end of the request's write")
				if writeErr != nil {
					wait(closed, "connection close after the failed write") // the transport closes it next
				}
				close(proceed)
				return out, md, err
			}), middleware.After)
	}
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} }, // one attempt: the one played here
		HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: dial}},
		APIOptions:   append(apiOptions, order),
	}
	db := dynamodb.NewFromConfig(cfg)
	_, callErr = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("civicsnap"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#1"}, "sk": &types.AttributeValueMemberS{Value: "META"}}})
	return callErr, writeErr
}

// gatedConn holds the writer after the request's second write until release, and says when it is closed.
type gatedConn struct {
	net.Conn
	writes  atomic.Int32
	release <-chan struct{}
	closed  func()
}

func (c *gatedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.writes.Add(1) == 2 {
		<-c.release
	}
	return n, err
}

func (c *gatedConn) Close() error {
	c.closed()
	return c.Conn.Close()
}

// TestAnswerDuringTheWriteIsRead: with SafeRequestBodies (which platform.New adds to every function's
// configuration) the interleaving that made calls fail reads the answer whole.
func TestAnswerDuringTheWriteIsRead(t *testing.T) {
	callErr, writeErr := answerDuringWrite(t, platform.SafeRequestBodies, platform.SafeRequestBodies) // twice: added once
	if callErr != nil || writeErr != nil {
		t.Errorf("GetItem: %v (the request's write: %v), want the answer", callErr, writeErr)
	}
}

// TestAnswerDuringTheWriteWithoutTheFix is the cause, reproduced: without SafeRequestBodies net/http's
// final check of the closed body gets io.EOF from its WriteTo, the write fails, the transport closes the
// connection and the SDK's read of the answer fails with "use of closed network connection" — an error
// the SDK retries. If this fails because the call succeeds, smithy-go's body no longer does that:
// SafeRequestBodies can go.
func TestAnswerDuringTheWriteWithoutTheFix(t *testing.T) {
	callErr, writeErr := answerDuringWrite(t)
	t.Logf("GetItem: %v; the request's write: %v", callErr, writeErr)
	if !errors.Is(writeErr, io.EOF) || !errors.Is(callErr, net.ErrClosed) {
		t.Errorf("GetItem: %v (the request's write: %v), want the write to end in io.EOF and the read of the answer in net.ErrClosed", callErr, writeErr)
	}
}

// TestSafeRequestBodiesKeepsTheRequest: the body sent is the serialized one, with its length, on every
// attempt of a retried call.
func TestSafeRequestBodiesKeepsTheRequest(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, fmt.Sprintf("%d %s", r.ContentLength, b))
		n := len(bodies)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if n == 1 { // retried by the SDK
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"once"}`)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	db := dynamodb.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String("http://" + ln.Addr().String()), APIOptions: []func(*middleware.Stack) error{platform.SafeRequestBodies},
	})
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("t"),
		Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "é"}}}); err != nil {
		t.Fatal(err)
	}
	want := `{"Item":{"pk":{"S":"é"}},"TableName":"t"}`
	want = fmt.Sprintf("%d %s", len(want), want)
	if len(bodies) != 2 || bodies[0] != want || bodies[1] != want {
		t.Errorf("bodies received %q, want %q twice", bodies, want)
	}
}

// bodyCheck is an HTTP client that records whether each request's body offers io.WriterTo, and answers {}.
type bodyCheck struct{ writerTo []bool }

func (c *bodyCheck) Do(r *http.Request) (*http.Response, error) {
	_, wt := r.Body.(io.WriterTo)
	c.writerTo = append(c.writerTo, wt)
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, Body: io.NopCloser(strings.NewReader(`{}`))}, nil
}

// TestNewSendsSafeRequestBodies: a Base's DynamoDB client, whatever configuration it was given (a test's,
// the local runner's), sends bodies without io.WriterTo; without SafeRequestBodies the SDK's would have it.
func TestNewSendsSafeRequestBodies(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"TABLE_NAME": "civicsnap", "CITY_TZ": "Asia/Shanghai"}[k]
	}
	for _, tc := range []struct {
		name       string
		apiOptions []func(*middleware.Stack) error
	}{{"a configuration without it", nil}, {"one with it already", []func(*middleware.Stack) error{platform.SafeRequestBodies}}} {
		client := &bodyCheck{}
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
			BaseEndpoint: aws.String("http://127.0.0.1:1"), HTTPClient: client, APIOptions: tc.apiOptions}
		b, err := platform.New(env, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("civicsnap"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}); err != nil {
			t.Fatal(err)
		}
		if len(client.writerTo) != 1 || client.writerTo[0] {
			t.Errorf("%s: bodies offering WriterTo %v, want one request without it", tc.name, client.writerTo)
		}
		if len(cfg.APIOptions) != len(tc.apiOptions) {
			t.Errorf("%s: New changed its caller's APIOptions: %d", tc.name, len(cfg.APIOptions))
		}
	}
	// The premise: the SDK's own body offers it.
	client := &bodyCheck{}
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), HTTPClient: client})
	if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("civicsnap"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}); err != nil {
		t.Fatal(err)
	}
	if len(client.writerTo) != 1 || !client.writerTo[0] {
		t.Errorf("the SDK's own bodies offering WriterTo: %v, want one that does (else SafeRequestBodies can go)", client.writerTo)
	}
}
