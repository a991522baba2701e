package pump

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
)

// Conditions of a discarded batch, as Lambda names them in the invocation record.
const (
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	ConditionRecordAgeExceeded      = "RecordAgeExceeded"
)

// process invokes the handler with the shard's next batch when one is ready. It reports whether it did
// something (an invocation or a discard), so the caller can go on with the next batch at once.
//
// Checkpointing follows Lambda: a successful batch is checkpointed whole. A handler error fails the whole
// batch. A partial batch response (with ReportBatchItemFailures) checkpoints the records before the
// lowest failed sequence number and retries from there; an itemIdentifier that is empty or not in the
// batch fails the whole batch. Each failed invocation counts one attempt against every record it
// retries; when a record has failed more than MaximumRetryAttempts times, or is older than
// MaximumRecordAge, the failed records are discarded and reported to the on-failure queue.
//
// With BisectBatchOnFunctionError a batch that failed with an error is retried as two halves (the
// first half first), recursively, so a poison record ends up alone; after a partial batch response
// only the failed remainder of that batch is retried. Without it a retry re-reads up to BatchSize
// records from the checkpoint, as Lambda does.
func (r *streamRun) process(ctx context.Context, sh *shard) bool {
	if ctx.Err() != nil || len(sh.pending) == 0 {
		return false
	}
	now := time.Now()
	if now.Before(r.readyAt(sh)) {
		return false
	}
	cfg := r.p.cfg
	if cfg.MaximumRecordAge > 0 {
		n := 0
		for n < len(sh.pending) && now.Sub(sh.pending[n].created) > cfg.MaximumRecordAge {
			n++
		}
		if n > 0 {
			r.discard(ctx, sh, slices.Clone(sh.pending[:n]), ConditionRecordAgeExceeded, nil)
			sh.dropFront(n, now)
			return true
		}
	}
	size := cfg.BatchSize
	if len(sh.segments) > 0 {
		size = sh.segments[0]
	}
	batch := slices.Clone(sh.pending[:min(size, len(sh.pending))])
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(batch))}
	for i, rec := range batch {
		ev.Records[i] = rec.rec
	}

	start := time.Now()
	resp, requestID, err := invoke(ctx, cfg.FunctionARN, cfg.Timeout, r.p.handler, ev)
	r.p.act.invoked()
	if ctx.Err() != nil {
		return false // stopping: the batch was not processed, and no one will retry it
	}
	failedFrom, reason := r.outcome(batch, resp, err)
	log := r.p.log.With("shard", sh.id, "records", len(batch), "firstSeq", batch[0].rec.Change.SequenceNumber,
		"requestId", requestID, "ms", time.Since(start).Milliseconds())
	now = time.Now()
	if failedFrom == len(batch) {
		log.Debug("invoked")
		sh.dropFront(len(batch), now)
		sh.notBefore = time.Time{}
		return true
	}

	failed := batch[failedFrom:]
	sh.dropFront(failedFrom, now)
	attempts := 0
	for _, rec := range failed {
		rec.failures++
		attempts = max(attempts, rec.failures)
	}
	log.Warn("invocation failed", "failures", len(failed), "failedFromSeq", failed[0].rec.Change.SequenceNumber,
		"attempt", attempts, "reason", reason)
	if cond := r.exhausted(failed, now); cond != "" {
		r.discard(ctx, sh, failed, cond, &invocation{requestID: requestID, functionError: err != nil})
		sh.dropFront(len(failed), now)
		sh.notBefore = time.Time{}
		return true
	}
	if cfg.BisectBatchOnFunctionError {
		switch {
		case err != nil && len(failed) > 1:
			half := len(failed) / 2
			rest := []int(nil)
			if len(sh.segments) > 0 {
				rest = sh.segments[1:] // segments[0] is the batch that just failed
			}
			sh.segments = append([]int{half, len(failed) - half}, rest...)
		case err == nil && len(sh.segments) == 0:
			sh.segments = []int{len(failed)}
		}
	}
	sh.notBefore = now.Add(min(cfg.RetryDelay*time.Duration(attempts), maxRetryDelay))
	return true
}

// outcome returns the index of the first record to retry (len(batch) when the batch succeeded) and,
// for a failure, why.
func (r *streamRun) outcome(batch []*pendingRecord, resp events.DynamoDBEventResponse, err error) (int, string) {
	if err != nil {
		return 0, err.Error()
	}
	if len(resp.BatchItemFailures) == 0 {
		return len(batch), ""
	}
	if !r.p.cfg.ReportBatchItemFailures {
		r.p.log.Debug("batchItemFailures ignored: the event has no FunctionResponseTypes: [ReportBatchItemFailures]")
		return len(batch), ""
	}
	lowest := len(batch)
	for _, f := range resp.BatchItemFailures {
		i := slices.IndexFunc(batch, func(p *pendingRecord) bool { return p.rec.Change.SequenceNumber == f.ItemIdentifier })
		if f.ItemIdentifier == "" || i < 0 {
			return 0, fmt.Sprintf("itemIdentifier %q is not a sequence number of the batch, so the whole batch failed", f.ItemIdentifier)
		}
		lowest = min(lowest, i)
	}
	return lowest, fmt.Sprintf("%d records reported failed", len(resp.BatchItemFailures))
}

// exhausted returns the condition under which the failed records are to be discarded, or "".
func (r *streamRun) exhausted(failed []*pendingRecord, now time.Time) string {
	cfg := r.p.cfg
	if cfg.MaximumRetryAttempts >= 0 {
		for _, rec := range failed {
			if rec.failures > cfg.MaximumRetryAttempts {
				return ConditionRetryAttemptsExhausted
			}
		}
	}
	if cfg.MaximumRecordAge > 0 && now.Sub(failed[0].created) > cfg.MaximumRecordAge {
		return ConditionRecordAgeExceeded
	}
	return ""
}

// invocation describes the last invocation of a discarded batch; nil when records aged out before one.
type invocation struct {
	requestID     string
	functionError bool
}

// StreamFailureRecord is the invocation record Lambda sends to a stream mapping's on-failure
// destination: where the discarded records are in the stream, not the records themselves.
type StreamFailureRecord struct {
	RequestContext  FailureRequestContext   `json:"requestContext"`
	ResponseContext *FailureResponseContext `json:"responseContext,omitempty"`
	Version         string                  `json:"version"`
	Timestamp       string                  `json:"timestamp"`
	BatchInfo       StreamBatchInfo         `json:"DDBStreamBatchInfo"`
}

// FailureRequestContext says which function gave up on the batch and why.
type FailureRequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// FailureResponseContext describes the last invocation's response.
type FailureResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// StreamBatchInfo locates the discarded records.
type StreamBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// discard gives up on records: it logs them and sends the invocation record to the on-failure queue.
func (r *streamRun) discard(ctx context.Context, sh *shard, recs []*pendingRecord, condition string, inv *invocation) {
	first, last := recs[0], recs[len(recs)-1]
	rec := StreamFailureRecord{
		RequestContext: FailureRequestContext{
			RequestID: uuid.NewString(), FunctionARN: r.p.cfg.FunctionARN, Condition: condition,
		},
		Version:   "1.0",
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		BatchInfo: StreamBatchInfo{
			ShardID:                         sh.id,
			StartSequenceNumber:             first.rec.Change.SequenceNumber,
			EndSequenceNumber:               last.rec.Change.SequenceNumber,
			ApproximateArrivalOfFirstRecord: first.created.UTC().Format(time.RFC3339),
			ApproximateArrivalOfLastRecord:  last.created.UTC().Format(time.RFC3339),
			BatchSize:                       len(recs),
			StreamARN:                       r.p.cfg.StreamARN,
		},
	}
	for _, pr := range recs {
		rec.RequestContext.ApproximateInvokeCount = max(rec.RequestContext.ApproximateInvokeCount, pr.failures)
	}
	if inv != nil {
		rec.RequestContext.RequestID = inv.requestID
		rec.ResponseContext = &FailureResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}
		if inv.functionError {
			rec.ResponseContext.FunctionError = "Unhandled"
		}
	}
	log := r.p.log.With("shard", sh.id, "condition", condition, "records", len(recs),
		"startSeq", rec.BatchInfo.StartSequenceNumber, "endSeq", rec.BatchInfo.EndSequenceNumber)
	url := r.p.cfg.OnFailureQueueURL
	if url == "" {
		log.Error("records discarded")
		return
	}
	body, err := json.Marshal(rec)
	if err == nil {
		_, err = r.p.sender.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body))})
	}
	if err != nil {
		log.Error("records discarded; sending the failure record failed", "queue", url, "err", err)
		return
	}
	log.Error("records discarded; failure record sent", "queue", url)
}
