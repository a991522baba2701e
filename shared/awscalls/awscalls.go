// Package awscalls counts the AWS API calls a client makes, by service and operation, with a middleware on
// the SDK's stack. The calls are what running the city costs, so tests and benchmarks count them.
package awscalls

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts calls. The zero value is ready to use; it is safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	m  map[string]int
}

// Attach makes every client built from cfg count its calls on c. Retries of one call count once.
func (c *Counter) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("awscalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.add(awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

func (c *Counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[op]++
}

// Snapshot returns the counts so far, keyed "Service.Operation" (e.g. "DynamoDB.TransactWriteItems").
func (c *Counter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

// Service returns the number of calls made to one service ("DynamoDB", "S3").
func (c *Counter) Service(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.m {
		if len(k) > len(id) && k[:len(id)] == id && k[len(id)] == '.' {
			n += v
		}
	}
	return n
}

// Reset forgets the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}
