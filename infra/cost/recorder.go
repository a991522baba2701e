package cost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Line is what one function's calls of one operation cost.
type Line struct {
	Calls    int
	TableWCU float64
	IndexWCU map[string]float64
	RCU      float64
}

// WCU is the line's write units, table and indexes.
func (l *Line) WCU() float64 {
	t := l.TableWCU
	for _, v := range l.IndexWCU {
		t += v
	}
	return t
}

// Recorder counts the calls of the functions it is attached to, by function and "Service.Operation", and
// the DynamoDB units of each: it reads every written item before and after the write (consistently, with
// a client of its own that is not counted) and sizes every item a read returns. Writes are serialized
// while it reads the images, so the images are the write's own.
type Recorder struct {
	raw    *dynamodb.Client
	schema Schema

	// Trace, when set, receives one line per item written (function, operation, key, units).
	Trace io.Writer

	writes sync.Mutex
	mu     sync.Mutex
	lines  map[[2]string]*Line
	err    error
}

// NewRecorder records against raw (an uncounted client of the same endpoint) and the table's schema.
func NewRecorder(raw *dynamodb.Client, schema Schema) *Recorder {
	return &Recorder{raw: raw, schema: schema, lines: map[[2]string]*Line{}}
}

// Attach makes the clients built from cfg record as function fn.
func (r *Recorder) Attach(fn string, cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("cost",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				name := awsmiddleware.GetOperationName(ctx)
				if !isOperation(name) {
					// A presigned POST runs the stack without sending a request (its operation name is
					// not one): the client's upload is counted by the driver.
					return next.HandleInitialize(ctx, in)
				}
				op := awsmiddleware.GetServiceID(ctx) + "." + name
				if awsmiddleware.GetServiceID(ctx) != "DynamoDB" {
					r.add(fn, op, func(*Line) {})
					return next.HandleInitialize(ctx, in)
				}
				return r.dynamo(ctx, fn, op, in, next)
			}), middleware.After)
	})
}

// Err is the first error the recorder met reading images.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Lines returns the lines so far, keyed by function and operation.
func (r *Recorder) Lines() map[[2]string]Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[[2]string]Line, len(r.lines))
	for k, l := range r.lines {
		c := *l
		c.IndexWCU = map[string]float64{}
		for ix, v := range l.IndexWCU {
			c.IndexWCU[ix] = v
		}
		out[k] = c
	}
	return out
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = map[[2]string]*Line{}
}

func (r *Recorder) add(fn, op string, f func(*Line)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines[[2]string{fn, op}]
	if l == nil {
		l = &Line{IndexWCU: map[string]float64{}}
		r.lines[[2]string{fn, op}] = l
	}
	l.Calls++
	f(l)
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// target is one item a write touches.
type target struct {
	table string
	key   Item
	check bool // a transaction's ConditionCheck: charged, writes nothing
}

func writeTargets(params any) (targets []target, txn bool) {
	switch p := params.(type) {
	case *dynamodb.PutItemInput:
		return []target{{table: aws.ToString(p.TableName), key: keyOf(p.Item)}}, false
	case *dynamodb.UpdateItemInput:
		return []target{{table: aws.ToString(p.TableName), key: p.Key}}, false
	case *dynamodb.DeleteItemInput:
		return []target{{table: aws.ToString(p.TableName), key: p.Key}}, false
	case *dynamodb.BatchWriteItemInput:
		for table, reqs := range p.RequestItems {
			for _, w := range reqs {
				switch {
				case w.PutRequest != nil:
					targets = append(targets, target{table: table, key: keyOf(w.PutRequest.Item)})
				case w.DeleteRequest != nil:
					targets = append(targets, target{table: table, key: w.DeleteRequest.Key})
				}
			}
		}
		return targets, false
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range p.TransactItems {
			switch {
			case it.Put != nil:
				targets = append(targets, target{table: aws.ToString(it.Put.TableName), key: keyOf(it.Put.Item)})
			case it.Update != nil:
				targets = append(targets, target{table: aws.ToString(it.Update.TableName), key: it.Update.Key})
			case it.Delete != nil:
				targets = append(targets, target{table: aws.ToString(it.Delete.TableName), key: it.Delete.Key})
			case it.ConditionCheck != nil:
				targets = append(targets, target{table: aws.ToString(it.ConditionCheck.TableName), key: it.ConditionCheck.Key, check: true})
			}
		}
		return targets, true
	}
	return nil, false
}

func keyOf(it Item) Item { return Item{"pk": it["pk"], "sk": it["sk"]} }

func (r *Recorder) image(ctx context.Context, t target) Item {
	out, err := r.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.table, Key: t.key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		r.fail(err)
		return nil
	}
	return out.Item
}

func (r *Recorder) dynamo(ctx context.Context, fn, op string, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	targets, txn := writeTargets(in.Parameters)
	if targets != nil {
		r.writes.Lock()
		defer r.writes.Unlock()
		imgCtx := context.WithoutCancel(ctx)
		before := make([]Item, len(targets))
		for i, t := range targets {
			before[i] = r.image(imgCtx, t)
		}
		out, md, err := next.HandleInitialize(ctx, in)
		r.add(fn, op, func(l *Line) {
			for i, t := range targets {
				after := before[i]
				if !t.check && err == nil {
					after = r.image(imgCtx, t)
				}
				if t.check || err != nil {
					// A condition check, a refused condition or a cancelled transaction changes nothing
					// and is charged the item's size (2× in a transaction), no index.
					u := kb(ItemSize(before[i]))
					if txn {
						u *= 2
					}
					l.TableWCU += u
					continue
				}
				w := r.schema.Write(before[i], after, txn)
				if r.Trace != nil {
					fmt.Fprintf(r.Trace, "%-12s %-28s %-40.40s %5d→%5dB table %.0f index %v\n", fn, op, keyString(t.key), ItemSize(before[i]), ItemSize(after), w.Table, w.Index)
				}
				l.TableWCU += w.Table
				for ix, v := range w.Index {
					l.IndexWCU[ix] += v
				}
			}
		})
		return out, md, err
	}
	out, md, err := next.HandleInitialize(ctx, in)
	r.add(fn, op, func(l *Line) {
		if err != nil {
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				l.RCU += 0.5
			}
			return
		}
		l.RCU += readUnits(in.Parameters, out.Result)
	})
	return out, md, err
}

func readUnits(params, result any) float64 {
	sum := func(items []Item) int {
		n := 0
		for _, it := range items {
			n += ItemSize(it)
		}
		return n
	}
	switch p := params.(type) {
	case *dynamodb.GetItemInput:
		o, _ := result.(*dynamodb.GetItemOutput)
		var it Item
		if o != nil {
			it = o.Item
		}
		return ReadUnits(ItemSize(it), aws.ToBool(p.ConsistentRead), false)
	case *dynamodb.QueryInput:
		o, _ := result.(*dynamodb.QueryOutput)
		if o == nil {
			return 0
		}
		return ReadUnits(sum(o.Items), aws.ToBool(p.ConsistentRead), false)
	case *dynamodb.BatchGetItemInput:
		o, _ := result.(*dynamodb.BatchGetItemOutput)
		if o == nil {
			return 0
		}
		u := 0.0
		for table, items := range o.Responses {
			consistent := aws.ToBool(p.RequestItems[table].ConsistentRead)
			for _, it := range items {
				u += ReadUnits(ItemSize(it), consistent, false)
			}
		}
		return u
	case *dynamodb.TransactGetItemsInput:
		o, _ := result.(*dynamodb.TransactGetItemsOutput)
		if o == nil {
			return 0
		}
		u := 0.0
		for _, it := range o.Responses {
			u += ReadUnits(ItemSize(it.Item), true, true)
		}
		return u
	}
	return 0
}

func isOperation(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func keyString(k Item) string {
	var pk, sk string
	if v, ok := k["pk"].(*types.AttributeValueMemberS); ok {
		pk = v.Value
	}
	if v, ok := k["sk"].(*types.AttributeValueMemberS); ok {
		sk = v.Value
	}
	if len(pk) > 20 {
		pk = pk[:20]
	}
	return pk + "|" + sk
}
