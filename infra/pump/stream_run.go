package pump

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
)

// streamRun is the state of one Run: the shards being read, in the order they were found.
type streamRun struct {
	p           *StreamPump
	shards      map[string]*shard
	order       []string
	finished    map[string]bool // shards read to their end, or skipped: their children may start
	lastRefresh time.Time
	idleCycles  int // in a row, for the polling backoff
}

// shard is one shard's read position and the records read but not yet checkpointed.
type shard struct {
	id, parent string
	iterator   *string
	// startAt is how to get an iterator when there is none: LATEST or TRIM_HORIZON at first,
	// AFTER_SEQUENCE_NUMBER lastSeq after an expired iterator.
	startAt types.ShardIteratorType
	lastSeq string
	closed  bool // GetRecords returned no next iterator: the shard has ended
	pending []*pendingRecord
	// pendingSince is when the oldest pending record was read, for the batching window.
	pendingSince time.Time
	// segments are the sizes of the next batches while a bisected batch is retried.
	segments []int
	// notBefore delays the next invocation (retry backoff) or read (after an error).
	notBefore, readAfter time.Time
	readErrors           int
}

// pendingRecord is a record that passed the filters and awaits a successful invocation.
type pendingRecord struct {
	rec      events.DynamoDBEventRecord
	created  time.Time
	failures int // failed invocations that included it
}

func (sh *shard) seq(i int) string { return sh.pending[i].rec.Change.SequenceNumber }

// dropFront checkpoints the first n pending records and shrinks the bisect segments to match.
func (sh *shard) dropFront(n int, now time.Time) {
	sh.pending = slices.Delete(sh.pending, 0, n)
	for n > 0 && len(sh.segments) > 0 {
		if sh.segments[0] <= n {
			n -= sh.segments[0]
			sh.segments = sh.segments[1:]
		} else {
			sh.segments[0] -= n
			n = 0
		}
	}
	if len(sh.segments) == 0 {
		sh.segments = nil
	}
	sh.pendingSince = now
}

// start reads the stream's shards and, for LATEST, fixes the open shards' iterators now, so that what
// is written after Ready is delivered.
func (r *streamRun) start(ctx context.Context) error {
	shards, err := r.describe(ctx)
	if err != nil {
		return err
	}
	latest := r.p.cfg.StartingPosition == StartLatest
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if latest && s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
			r.finished[id] = true // ended before the mapping started
			continue
		}
		sh := r.add(s, types.ShardIteratorTypeTrimHorizon)
		if latest {
			sh.startAt = types.ShardIteratorTypeLatest
			if err := r.position(ctx, sh); err != nil {
				return err
			}
		}
	}
	r.lastRefresh = time.Now()
	return nil
}

func (r *streamRun) add(s types.Shard, startAt types.ShardIteratorType) *shard {
	sh := &shard{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId), startAt: startAt}
	r.shards[sh.id] = sh
	r.order = append(r.order, sh.id)
	return sh
}

func (r *streamRun) describe(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	var from *string
	for {
		out, err := r.p.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(r.p.cfg.StreamARN), ExclusiveStartShardId: from,
		})
		if err != nil {
			return nil, err
		}
		if out.StreamDescription == nil {
			return shards, nil
		}
		shards = append(shards, out.StreamDescription.Shards...)
		from = out.StreamDescription.LastEvaluatedShardId
		if from == nil {
			return shards, nil
		}
	}
}

// refresh adds shards that appeared since the last look; they are read from their start once their
// parent is finished, as Lambda does.
func (r *streamRun) refresh(ctx context.Context) {
	r.lastRefresh = time.Now()
	shards, err := r.describe(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.p.log.Warn("describe stream failed", "err", err)
		}
		return
	}
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if r.shards[id] == nil && !r.finished[id] {
			r.add(s, types.ShardIteratorTypeTrimHorizon)
			r.p.log.Debug("new shard", "shard", id, "parent", aws.ToString(s.ParentShardId))
		}
	}
}

// position gets an iterator for the shard from its startAt.
func (r *streamRun) position(ctx context.Context, sh *shard) error {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(r.p.cfg.StreamARN), ShardId: aws.String(sh.id), ShardIteratorType: sh.startAt,
	}
	if sh.startAt == types.ShardIteratorTypeAfterSequenceNumber {
		in.SequenceNumber = aws.String(sh.lastSeq)
	}
	out, err := r.p.streams.GetShardIterator(ctx, in)
	if err != nil {
		return err
	}
	sh.iterator = out.ShardIterator
	if sh.iterator == nil {
		sh.closed = true
	}
	return nil
}

// cycle polls every shard once, invokes the handler for what is ready, and sleeps when there was
// nothing to do.
func (r *streamRun) cycle(ctx context.Context) {
	start := time.Now()
	if start.Sub(r.lastRefresh) >= shardRefresh {
		r.refresh(ctx)
	}
	busy := false
	for _, id := range slices.Clone(r.order) {
		sh := r.shards[id]
		if r.read(ctx, sh) {
			busy = true
		}
		for r.process(ctx, sh) {
			busy = true
		}
		if sh.closed && len(sh.pending) == 0 {
			r.finish(sh)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if busy {
		r.idleCycles = 0
	} else {
		r.idleCycles++
	}
	waiting := false
	wake := start.Add(r.p.act.idleBackoff(r.p.cfg.PollInterval, r.idleCycles-1))
	for _, sh := range r.shards {
		if len(sh.pending) > 0 {
			waiting = true
			if at := r.readyAt(sh); at.Before(wake) {
				wake = at
			}
		}
		// A shard backing off after a failed read has not been read: records may be waiting in it, so
		// this cycle proves nothing idle (a Drain returning now would let its caller run ahead of them).
		if now := time.Now(); now.Before(sh.readAfter) {
			waiting = true
			if sh.readAfter.Before(wake) {
				wake = sh.readAfter
			}
		}
	}
	r.p.act.cycle(start, !busy && !waiting)
	if !busy {
		r.p.act.pause(ctx, time.Until(wake))
	}
}

// readyAt is when the shard's next batch may be invoked: after the retry backoff and, for a batch that
// is not full yet, after the batching window — unless a Drain waits: whoever drains wants the effects
// now, not a fuller batch.
func (r *streamRun) readyAt(sh *shard) time.Time {
	at := sh.notBefore
	if w := r.p.cfg.BatchingWindow; w > 0 && !r.p.act.draining() && len(sh.segments) == 0 && len(sh.pending) < r.p.cfg.BatchSize && !sh.closed {
		if end := sh.pendingSince.Add(w); end.After(at) {
			at = end
		}
	}
	return at
}

func (r *streamRun) finish(sh *shard) {
	delete(r.shards, sh.id)
	r.order = slices.DeleteFunc(r.order, func(id string) bool { return id == sh.id })
	r.finished[sh.id] = true
	r.p.log.Debug("shard finished", "shard", sh.id)
}

// read fetches the next records of a shard, unless it has a full batch waiting already or its parent
// is not finished. It reports whether records arrived.
func (r *streamRun) read(ctx context.Context, sh *shard) bool {
	cfg := r.p.cfg
	if sh.closed || len(sh.pending) >= cfg.BatchSize || time.Now().Before(sh.readAfter) {
		return false
	}
	if sh.parent != "" && r.shards[sh.parent] != nil {
		return false // the parent's records come first
	}
	if sh.iterator == nil {
		if err := r.position(ctx, sh); err != nil {
			if trimmed := (*types.TrimmedDataAccessException)(nil); errors.As(err, &trimmed) {
				// the records after the last one read are gone (older than the stream keeps): carry on
				// from the oldest record kept, as Lambda does
				sh.startAt = types.ShardIteratorTypeTrimHorizon
			}
			r.readFailed(ctx, sh, "get shard iterator", err)
			return false
		}
		if sh.iterator == nil {
			return false
		}
	}
	out, err := r.p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: sh.iterator, Limit: aws.Int32(int32(min(cfg.BatchSize, getRecordsLimit))),
	})
	if err != nil {
		var expired *types.ExpiredIteratorException
		var trimmed *types.TrimmedDataAccessException
		switch {
		case errors.As(err, &expired):
			// Iterators live 15 minutes in AWS; start again after the last record read.
			sh.iterator = nil
			if sh.lastSeq != "" {
				sh.startAt = types.ShardIteratorTypeAfterSequenceNumber
			}
			return false
		case errors.As(err, &trimmed):
			sh.iterator, sh.startAt = nil, types.ShardIteratorTypeTrimHorizon
		}
		r.readFailed(ctx, sh, "get records", err)
		return false
	}
	sh.readErrors = 0
	sh.iterator = out.NextShardIterator
	if sh.iterator == nil {
		sh.closed = true
	}
	now := time.Now()
	for _, raw := range out.Records {
		rec, created, err := lambdaRecord(raw, r.p.region, cfg.StreamARN)
		if seq := rec.Change.SequenceNumber; seq != "" {
			sh.lastSeq = seq
		}
		if err != nil {
			r.p.log.Error("cannot convert stream record; skipped", "shard", sh.id, "err", err)
			continue
		}
		if !r.passes(rec) {
			r.p.log.Debug("record filtered out", "shard", sh.id, "seq", rec.Change.SequenceNumber, "event", rec.EventName)
			continue
		}
		if len(sh.pending) == 0 {
			sh.pendingSince = now
		}
		sh.pending = append(sh.pending, &pendingRecord{rec: rec, created: created})
	}
	return len(out.Records) > 0
}

// passes applies the FilterCriteria to the record as Lambda would deliver it.
func (r *streamRun) passes(rec events.DynamoDBEventRecord) bool {
	if len(r.p.cfg.Filters) == 0 {
		return true
	}
	doc, err := json.Marshal(rec)
	if err != nil {
		r.p.log.Warn("cannot encode stream record for filtering; dropped", "seq", rec.Change.SequenceNumber, "err", err)
		return false
	}
	return eventfilter.MatchAny(r.p.cfg.Filters, doc)
}

// readFailed logs a read error and backs the shard off: 1 s per consecutive error, at most 10 s, so a
// stopped moto does not flood the log.
func (r *streamRun) readFailed(ctx context.Context, sh *shard, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	sh.readErrors++
	sh.readAfter = time.Now().Add(min(time.Duration(sh.readErrors)*time.Second, 10*time.Second))
	r.p.log.Warn(what+" failed", "shard", sh.id, "attempt", sh.readErrors, "err", err)
}
