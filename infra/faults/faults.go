// Package faults injects, for tests, the failures that real DynamoDB and the network produce and the local
// stack never does: a transaction conflict, throttling, a response lost after the write was applied (so the
// SDK sends the request again), and a call that takes until the context's deadline.
//
// An Injector wraps an aws.HTTPClient (aws.Config.HTTPClient, or testenv.Options.WrapHTTP) and acts only
// on DynamoDB calls (the X-Amz-Target header DynamoDB_20120810.<Operation>); S3, SQS and Secrets Manager
// pass through. In every block of ten consecutive DynamoDB calls it faults PerTen of them, at positions and
// with kinds drawn from a seeded generator (math/rand/v2), so a run is replayed by its seed: the seed is
// logged, and CIVICSNAP_FAULT_SEED sets it. Calls made concurrently reach the injector in an order the
// scheduler picks, so only a sequential run replays call for call.
package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Kind is a kind of fault.
type Kind int

// Kinds of faults.
const (
	// Conflict: the write meets a concurrent transaction and is not applied. PutItem, UpdateItem and
	// DeleteItem get TransactionConflictException; TransactWriteItems gets TransactionCanceledException
	// with the reason TransactionConflict on one item (None on the others). Other operations get Throttle.
	Conflict Kind = iota
	// Throttle: ProvisionedThroughputExceededException or ThrottlingException (one at random); nothing is
	// applied. The SDK retries both with backoff.
	Throttle
	// LostResponse: the request reaches DynamoDB and is applied, its answer is discarded and the caller
	// gets a connection reset, which the SDK retries: the same request arrives a second time. (DynamoDB
	// answers a re-sent TransactWriteItems from its ClientRequestToken for 10 minutes; moto ignores the
	// token and runs it again, which is the stricter test: the store must recognise its own write.)
	LostResponse
	// Deadline: the call takes until the context's deadline, having been applied or not (one at random),
	// and returns the context's error. Without a deadline on the context it is a LostResponse.
	Deadline
	nKinds
)

// AllKinds lists every kind.
var AllKinds = []Kind{Conflict, Throttle, LostResponse, Deadline}

func (k Kind) String() string {
	switch k {
	case Conflict:
		return "conflict"
	case Throttle:
		return "throttle"
	case LostResponse:
		return "lost_response"
	case Deadline:
		return "deadline"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// SeedEnv names the environment variable that replays a run: its value is the seed.
const SeedEnv = "CIVICSNAP_FAULT_SEED"

// Options shape an Injector.
type Options struct {
	// Seed of the generator. 0 takes CIVICSNAP_FAULT_SEED, or a random seed when that is unset.
	Seed uint64
	// PerTen is how many calls of each block of ten consecutive DynamoDB calls are faulted (1 to 10;
	// default 1).
	PerTen int
	// Kinds are the faults to draw from, uniformly (default AllKinds).
	Kinds []Kind
	// Operations limits the faults to these DynamoDB operations ("UpdateItem", "TransactWriteItems");
	// default all. Other operations pass through and are not counted as calls.
	Operations []string
	// Script, when set, replaces the draw: the i-th matching call gets the fault Script[i], and calls
	// after the script pass (a reproducer of one sequence: a lost answer, then a conflict on the SDK's
	// re-send, say). PerTen and Kinds are ignored.
	Script []Kind
	// Max stops the injection after this many faults (0: no limit): Max 1 with PerTen 10 faults exactly
	// the first matching call, a reproducer of one failure.
	Max int64
	// Log gets the seed (default slog.Default()).
	Log *slog.Logger
}

// Injector decides which calls fail and how, and counts what it did. It is safe for concurrent use.
type Injector struct {
	seed   uint64
	perTen int
	kinds  []Kind
	ops    []string
	max    int64
	script []Kind

	mu       sync.Mutex
	rng      *rand.Rand
	enabled  bool
	calls    int64 // matching calls seen while enabled
	block    [10]bool
	injected [nKinds]int64
	total    int64 // faults decided
	byOp     map[string]int64
}

// New returns an enabled Injector. It fails only on a malformed CIVICSNAP_FAULT_SEED or option.
func New(opts Options) (*Injector, error) {
	seed := opts.Seed
	if seed == 0 {
		if v := os.Getenv(SeedEnv); v != "" {
			s, err := strconv.ParseUint(v, 10, 64)
			if err != nil || s == 0 {
				return nil, fmt.Errorf("%s=%q: want a positive integer", SeedEnv, v)
			}
			seed = s
		} else {
			seed = rand.Uint64()>>1 + 1
		}
	}
	perTen := opts.PerTen
	if perTen == 0 {
		perTen = 1
	}
	if perTen < 1 || perTen > 10 {
		return nil, fmt.Errorf("faults: PerTen %d is not within 1-10", perTen)
	}
	kinds := opts.Kinds
	if len(kinds) == 0 {
		kinds = AllKinds
	}
	for _, k := range append(slices.Clone(kinds), opts.Script...) {
		if k < 0 || k >= nKinds {
			return nil, fmt.Errorf("faults: unknown kind %d", k)
		}
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	log.Info("fault injection", "seed", seed, "replay", SeedEnv+"="+strconv.FormatUint(seed, 10), "perTen", perTen, "kinds", fmt.Sprint(kinds))
	return &Injector{seed: seed, perTen: perTen, kinds: slices.Clone(kinds), ops: slices.Clone(opts.Operations),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), enabled: true, byOp: map[string]int64{}, max: opts.Max, script: slices.Clone(opts.Script)}, nil
}

// Seed is the seed in use: set CIVICSNAP_FAULT_SEED to it to replay the run.
func (in *Injector) Seed() uint64 { return in.seed }

// SetEnabled turns injection on or off (for a test's setup, say). Calls made while off are not counted.
func (in *Injector) SetEnabled(on bool) {
	in.mu.Lock()
	in.enabled = on
	in.mu.Unlock()
}

// Stats is what an Injector saw and did.
type Stats struct {
	Calls    int64            // DynamoDB calls that could be faulted (each attempt of the SDK counts)
	Injected map[Kind]int64   // faults by kind
	ByOp     map[string]int64 // faults by operation
}

// Faulted is the number of faults of every kind.
func (s Stats) Faulted() int64 {
	var n int64
	for _, v := range s.Injected {
		n += v
	}
	return n
}

func (s Stats) String() string {
	parts := []string{fmt.Sprintf("%d calls, %d faulted", s.Calls, s.Faulted())}
	for _, k := range AllKinds {
		if s.Injected[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Injected[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// Stats returns the counts so far.
func (in *Injector) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := Stats{Calls: in.calls, Injected: map[Kind]int64{}, ByOp: map[string]int64{}}
	for k, v := range in.injected {
		if v > 0 {
			s.Injected[Kind(k)] = v
		}
	}
	for k, v := range in.byOp {
		s.ByOp[k] = v
	}
	return s
}

// Wrap returns next with faults injected into its DynamoDB calls. Its shape fits aws.Config.HTTPClient
// and testenv.Options.WrapHTTP.
func (in *Injector) Wrap(next aws.HTTPClient) aws.HTTPClient {
	if next == nil {
		next = http.DefaultClient
	}
	return &client{in: in, next: next}
}

// decision is what happens to one call.
type decision struct {
	fault   bool
	kind    Kind
	variant int // Throttle: which exception; Deadline: 1 if the request is applied first; Conflict: item
}

// decide draws the fate of the next matching call.
func (in *Injector) decide(op string) decision {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.enabled || len(in.ops) > 0 && !slices.Contains(in.ops, op) {
		return decision{}
	}
	if in.script != nil {
		i := in.calls
		in.calls++
		if i >= int64(len(in.script)) {
			return decision{}
		}
		return decision{fault: true, kind: in.script[i], variant: int(in.rng.Uint32() >> 1)}
	}
	pos := int(in.calls % 10)
	if pos == 0 {
		in.block = [10]bool{}
		for _, p := range in.rng.Perm(10)[:in.perTen] {
			in.block[p] = true
		}
	}
	in.calls++
	if !in.block[pos] || in.max > 0 && in.total >= in.max {
		return decision{}
	}
	in.total++
	return decision{fault: true, kind: in.kinds[in.rng.IntN(len(in.kinds))], variant: int(in.rng.Uint32() >> 1)}
}

func (in *Injector) count(k Kind, op string) {
	in.mu.Lock()
	in.injected[k]++
	in.byOp[op]++
	in.mu.Unlock()
}

type client struct {
	in   *Injector
	next aws.HTTPClient
}

const targetPrefix = "DynamoDB_20120810."

func (c *client) Do(req *http.Request) (*http.Response, error) {
	target := req.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(target, targetPrefix) {
		return c.next.Do(req)
	}
	op := strings.TrimPrefix(target, targetPrefix)
	d := c.in.decide(op)
	if !d.fault {
		return c.next.Do(req)
	}
	kind := d.kind
	if kind == Conflict && !isWrite(op) {
		kind = Throttle
	}
	if _, ok := req.Context().Deadline(); kind == Deadline && !ok {
		kind = LostResponse
	}
	c.in.count(kind, op)
	switch kind {
	case Conflict:
		return conflict(req, op, d.variant)
	case Throttle:
		return throttle(req, d.variant)
	case LostResponse:
		return c.lose(req)
	default:
		if d.variant%2 == 1 {
			if _, err := c.lose(req); err != nil && !isInjectedReset(err) {
				return nil, err
			}
		} else {
			drain(req)
		}
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
}

// lose forwards the request, waits for and discards the answer, and reports a connection reset.
func (c *client) lose(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return nil, errInjectedReset()
}

// errInjectedReset is the error a read of a connection reset by the peer returns; the SDK retries it.
func errInjectedReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
}

func isInjectedReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func isWrite(op string) bool {
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems":
		return true
	}
	return false
}

// drain reads and closes the request body, as a transport that sent it would.
func drain(req *http.Request) []byte {
	if req.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(req.Body)
	_ = req.Body.Close()
	return b
}

// The error bodies are DynamoDB's (awsJson1_0): __type names the shape, fully qualified as the service
// sends it (the SDK keeps what follows '#'); TransactionCanceledException lists one reason per item of the
// request, in order, with "None" for the items that did not cause the cancellation.
const errNamespace = "com.amazonaws.dynamodb.v20120810#"

type reason struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
}

func conflict(req *http.Request, op string, variant int) (*http.Response, error) {
	body := drain(req)
	if op != "TransactWriteItems" {
		return errorResponse(req, "TransactionConflictException", map[string]any{
			"message": "Transaction is ongoing for the item",
		}), nil
	}
	var in struct {
		TransactItems []json.RawMessage `json:"TransactItems"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.TransactItems) == 0 {
		return nil, fmt.Errorf("faults: read TransactWriteItems request: %v", err)
	}
	at := variant % len(in.TransactItems)
	reasons := make([]reason, len(in.TransactItems))
	codes := make([]string, len(reasons))
	for i := range reasons {
		reasons[i], codes[i] = reason{Code: "None"}, "None"
	}
	reasons[at], codes[at] = reason{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"}, "TransactionConflict"
	return errorResponse(req, "TransactionCanceledException", map[string]any{
		"Message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		"CancellationReasons": reasons,
	}), nil
}

func throttle(req *http.Request, variant int) (*http.Response, error) {
	drain(req)
	if variant%2 == 0 {
		return errorResponse(req, "ProvisionedThroughputExceededException", map[string]any{
			"message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
		}), nil
	}
	return errorResponse(req, "ThrottlingException", map[string]any{
		"message": "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly.",
	}), nil
}

func errorResponse(req *http.Request, shape string, fields map[string]any) *http.Response {
	fields["__type"] = errNamespace + shape
	b, _ := json.Marshal(fields)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "FAULT"+strconv.Itoa(len(b)))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	return &http.Response{
		Status: "400 Bad Request", StatusCode: http.StatusBadRequest, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: req,
	}
}
