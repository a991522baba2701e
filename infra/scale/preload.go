package scale

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/demo"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/points"
)

// capture is a DynamoDB API that keeps the items the store would put instead of writing them, so that
// profiles are laid out by the store's own code and then loaded with BatchWriteItem. Only the calls
// CreateProfile and ApplyAward make are implemented.
type capture struct {
	dynamostore.API
	items []map[string]types.AttributeValue
}

func (c *capture) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.items = append(c.items, in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

func (c *capture) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.Put == nil {
			return nil, fmt.Errorf("preload: unexpected transaction item %+v", it)
		}
		c.items = append(c.items, it.Put.Item)
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// userItems renders the profiles of the citizens registered before the window, as the store writes them:
// an empty profile created on the registration day, or, for a citizen with points carried over, the
// profile with that balance and one ledger entry of the same day (the ledger stays the record of truth
// the reconciler checks the balance against). The award-identity item that ApplyAward also writes is
// left out: no report stands behind it.
func userItems(ctx context.Context, plan *demo.Plan, table string) ([]map[string]types.AttributeValue, error) {
	c := &capture{}
	store := dynamostore.New(c, table, plan.Config.TZ)
	for _, u := range plan.Users() {
		if u.Opening == 0 {
			if _, err := store.CreateProfile(ctx, u.Sub, u.RegisterAt); err != nil {
				return nil, err
			}
			continue
		}
		p := points.Profile{Sub: u.Sub, Balance: u.Opening, LifetimeEarned: u.Opening, Version: 1, CreatedAt: u.RegisterAt, TouchedAt: u.RegisterAt}
		a := points.Award{ReportID: "opening-" + u.Sub, Sub: u.Sub, Rule: "opening", Points: u.Opening, Granted: u.Opening, At: u.RegisterAt}
		e := points.Entry{ID: "opening-" + u.Sub, At: u.RegisterAt, Delta: u.Opening, Kind: points.KindAward,
			Note: fmt.Sprintf("%d points carried over from before %s", u.Opening, plan.From)}
		if err := store.ApplyAward(ctx, a, p, 0, e); err != nil {
			return nil, err
		}
	}
	out := c.items[:0]
	for _, it := range c.items {
		if pk, ok := it["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "AWARD#") {
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

// batchWriter is the one call preloading makes.
type batchWriter interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// batchWrite puts items 25 to a request, conns requests at a time, sending unprocessed items again.
func batchWrite(ctx context.Context, db batchWriter, table string, items []map[string]types.AttributeValue, conns int) error {
	var batches [][]types.WriteRequest
	for i := 0; i < len(items); i += 25 {
		var b []types.WriteRequest
		for _, it := range items[i:min(i+25, len(items))] {
			b = append(b, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		batches = append(batches, b)
	}
	work := make(chan []types.WriteRequest)
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := writeBatch(ctx, db, table, b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, b := range batches {
		select {
		case work <- b:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func writeBatch(ctx context.Context, db batchWriter, table string, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt == 10 {
			return fmt.Errorf("preload: %d items still unprocessed after %d attempts", len(reqs), attempt)
		}
		if attempt > 0 {
			time.Sleep(time.Duration(attempt*50) * time.Millisecond)
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return fmt.Errorf("preload: batch write: %w", err)
		}
		reqs = out.UnprocessedItems[table]
	}
	return nil
}
