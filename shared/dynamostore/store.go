// Package dynamostore is the DynamoDB adapter: one table, overloaded keys (pk/sk and four generic GSIs),
// every access a GetItem, Query or (Transact)Write on a key designed for it — never a Scan. It translates
// SDK errors into domain errors.
//
// Key design (see README "Data model"):
//
//	report            pk=REPORT#<id>               sk=REPORT
//	  timeline entry  pk=REPORT#<id>               sk=TL#<at>#<n>
//	  gsi1 (mine)     gsi1pk=USER#<sub>            gsi1sk=REPORT#<createdAt>#<id>
//	  gsi3 (day)      gsi3pk=CREATED#<local day>   gsi3sk=<createdAt>#<id>
//	category          pk=CONFIG#CATEGORY           sk=<code>
//	idempotency key   pk=IDEM#<scope>#<owner>#<key> sk=IDEM       (ttl)
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Store is the DynamoDB-backed store of every domain.
type Store struct {
	db    API
	table string
	tz    *time.Location // the city's time zone: days in keys are local days
}

// New returns a Store on table. tz is the city's time zone.
func New(db API, table string, tz *time.Location) *Store {
	return &Store{db: db, table: table, tz: tz}
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// conditionFailed reports whether err is a failed condition of a single-item write.
func conditionFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var ccf *types.ConditionalCheckFailedException
	return ccf, errors.As(err, &ccf)
}

// cancellationReasons returns the per-item reason codes of a cancelled transaction, or nil.
func cancellationReasons(err error) []types.CancellationReason {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons
	}
	return nil
}

// translate maps SDK errors that every operation can meet to domain errors, keeping the cause: throttling
// (after the SDK's own retries) to apperr.ErrThrottled, a conflict with a concurrent transaction (a
// single-item write's TransactionConflictException, a transaction cancelled for TransactionConflict) to
// apperr.ErrContention — both mean nothing was written —, DynamoDB's own failures to apperr.ErrUnavailable, and
// a call DynamoDB never answered (a dropped connection, the deadline, the SDK's retries spent on transport
// errors) to apperr.ErrOutcomeUnknown: a write may have been applied. Other answers (a failed condition a
// caller did not map, a validation error) keep their cause and no kind.
func translate(op string, err error) error {
	cause := fmt.Errorf("%s: %w", op, err)
	for _, r := range cancellationReasons(err) {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			return apperr.ErrContention.Wrap(cause)
		case "ThrottlingError", "ProvisionedThroughputExceeded":
			return apperr.ErrThrottled.Wrap(cause)
		}
	}
	if unanswered(err) {
		return apperr.ErrOutcomeUnknown.Wrap(cause)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return cause
	}
	switch apiErr.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded":
		return apperr.ErrThrottled.Wrap(cause)
	case "TransactionConflictException", "TransactionInProgressException":
		return apperr.ErrContention.Wrap(cause)
	case "InternalServerError", "ServiceUnavailable":
		return apperr.ErrUnavailable.Wrap(cause)
	}
	return cause
}

// attempts watches the attempts of one SDK call (the retryer may send it several times): whether any of
// them went unanswered. The call's error is its last attempt's, so a TransactionConflict after a lost
// answer does not prove that nothing was written: the lost attempt may have been applied.
type attempts struct{ lost atomic.Bool }

// option installs the watch on one call (after the retry step, so it sees each attempt).
func (a *attempts) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("civicsnap-attempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil && unanswered(err) {
					a.lost.Store(true)
				}
				return out, md, err
			}), middleware.After)
	})
}

// settle is translate for a write watched by a: a refusal that would say "nothing was written" says
// "unknown" instead when an earlier attempt of the same call went unanswered.
func (a *attempts) settle(op string, err error) error {
	t := translate(op, err)
	if a.lost.Load() && apperr.NotApplied(t) {
		return apperr.ErrOutcomeUnknown.Wrap(t)
	}
	return t
}

// unanswered reports whether err says DynamoDB's answer never arrived (or arrived unreadable).
func unanswered(err error) bool {
	var send *smithyhttp.RequestSendError
	var canceled *smithy.CanceledError
	var deser *smithy.DeserializationError
	return errors.As(err, &send) || errors.As(err, &canceled) || errors.As(err, &deser) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// timeKey formats t for sort keys: fixed width, UTC, so strings sort as times.
func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// dayKey is t's local day in the city.
func (s *Store) dayKey(t time.Time) string { return t.In(s.tz).Format("2006-01-02") }
