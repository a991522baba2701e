// Package pump is the local stand-in for Lambda's event source mappings and for EventBridge
// (Scheduler): it reads DynamoDB streams and SQS queues on moto and fires schedules, and calls the real
// function handlers in process with the events Lambda would deliver.
//
//   - StreamPump polls a DynamoDB stream (DescribeStream, GetShardIterator, GetRecords) and invokes a
//     handler with events.DynamoDBEvent batches, honouring FilterCriteria, BatchSize, the batching
//     window, partial batch responses (ReportBatchItemFailures), BisectBatchOnFunctionError,
//     MaximumRetryAttempts, MaximumRecordAgeInSeconds and an SQS on-failure destination.
//   - QueuePump polls an SQS queue and invokes a handler with events.SQSEvent batches, deleting what
//     succeeded; failures reappear after their visibility timeout and the queue's redrive policy moves
//     them to its dead-letter queue.
//   - Scheduler fires scheduled functions on their rate, cron or at expression, and on demand (Fire).
//
// FromTemplate builds all of them from template.yaml (infra/stack) and the handlers a runner provides.
//
// Local differences from AWS, all deliberate:
//   - One goroutine per mapping: shards of a stream are processed one after another, not in parallel,
//     and ParallelizationFactor is ignored. Order within a shard is kept, as in AWS.
//   - Retries wait RetryDelay × attempt (capped at 2 s) rather than Lambda's backoff, and the batching
//     window is capped at MaxBatchingWindow, so local runs stay fast.
//   - SQS is short-polled (WaitTimeSeconds 0) every PollInterval: infra/moto/serve.py applies one request
//     at a time, and moto sleeps inside a long-polling ReceiveMessage, so a long poll would stall every
//     other call to moto (DynamoDB included) for its whole wait.
//   - Quiet streams and queues are polled less and less often, up to once a second; a Drain or new
//     records bring the pace back at once. moto keeps every shard iterator it hands out, one per
//     GetRecords (2.4 KB each), so polling a quiet stream every 150 ms would grow moto by about 55 MB
//     an hour.
//
// What moto 5.2.5 does and does not do, as the pumps rely on it: a table has one stream shard that never
// closes and is never trimmed, iterators never expire, LATEST is the end of the shard when the iterator
// is made, ApproximateCreationDateTime is set (millisecond precision; Lambda's event carries whole
// seconds, so the pump truncates), eventVersion is "1.0" and awsRegion always us-east-1 (the pump sends
// "1.1" and the stream's region, as Lambda does), SizeBytes is an overestimate. SQS redrive policies are
// applied by moto's ReceiveMessage, like SQS. Shard roll-over, expired iterators and trimmed data are
// handled as AWS documents them but cannot be exercised against moto.
//   - Handlers run with a context carrying lambdacontext (request id, function ARN) and the function's
//     timeout; a handler that panics is treated like a function error, as the Lambda Go runtime does.
package pump
