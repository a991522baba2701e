package dynamostore_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/notify"
)

// gate holds the first DynamoDB call of one of ops whose body names marker until release is closed, so a
// test can run another caller's whole request inside that window: a race, interleaved on purpose.
type gate struct {
	inner   aws.HTTPClient
	ops     []string
	marker  string
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (g *gate) Do(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if slices.Contains(g.ops, op) && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte(g.marker)) {
			first := false
			g.once.Do(func() { first = true })
			if first {
				close(g.held)
				<-g.release
			}
		}
	}
	return g.inner.Do(req)
}

// gatedStore is a store over e's table whose calls pass through a gate on ops and marker.
func gatedStore(t *testing.T, e *resendEnv, marker string, ops ...string) (*dynamostore.Store, *gate) {
	t.Helper()
	cfg, err := moto.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	inner := cfg.HTTPClient
	if inner == nil {
		inner = awshttp.NewBuildableClient()
	}
	g := &gate{inner: inner, ops: ops, marker: marker, held: make(chan struct{}), release: make(chan struct{})}
	gated := cfg.Copy()
	gated.HTTPClient = g
	return dynamostore.New(dynamodb.NewFromConfig(gated), e.table, time.UTC), g
}

// deviceIDsOf is the set of device ids the settings item of sub counts, sorted.
func deviceIDsOf(t *testing.T, e *resendEnv, sub string) []string {
	t.Helper()
	out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": s("USER#" + sub), "sk": s("NOTIFY")}})
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := out.Item["deviceIds"].(*types.AttributeValueMemberSS)
	if ss == nil {
		return nil
	}
	ids := slices.Clone(ss.Value)
	slices.Sort(ids)
	return ids
}

// registeredIDs lists sub's device items' ids, sorted.
func registeredIDs(t *testing.T, st *dynamostore.Store, sub string) []string {
	t.Helper()
	us, err := st.Settings(t.Context(), sub, true)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range us.Devices {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids
}

func device(id string) notify.Device {
	return notify.Device{ID: id, Platform: notify.FCM, Token: "tok-" + id + "-aaaaaaaa", UpdatedAt: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
}

// Two registrations of new devices at once, with room for one: whichever way they interleave, one is
// refused and the user has 10 devices. The race is made, not hoped for: registration A is held at one of
// its writes (its first — past any read it based a decision on — or its transaction) while B runs whole.
func TestDeviceCapHoldsWhenRegistrationsInterleave(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []string // A is held at its first call of these
	}{
		{"A held at its first write", []string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}},
		{"A held at its transaction", []string{"TransactWriteItems"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newResendEnv(t, "none")
			e.inj.SetEnabled(false)
			ctx := t.Context()
			for i := range notify.MaxDevices - 1 {
				if err := e.plain.PutDevice(ctx, "u1", device(fmt.Sprintf("d%d", i))); err != nil {
					t.Fatal(err)
				}
			}
			gated, g := gatedStore(t, e, "NOTIFY#DEV#tablet", tc.ops...)
			doneA := make(chan error, 1)
			go func() { doneA <- gated.PutDevice(ctx, "u1", device("tablet")) }()
			select {
			case <-g.held:
			case err := <-doneA:
				t.Fatalf("A finished (%v) without reaching a held call", err)
			}
			errB := e.plain.PutDevice(ctx, "u1", device("watch"))
			close(g.release)
			errA := <-doneA
			if errB != nil || !errors.Is(errA, notify.ErrTooManyDevices) {
				t.Fatalf("B (ran whole while A was held): %v; A: %v; want B registered and A too_many_devices", errB, errA)
			}
			got := registeredIDs(t, e.plain, "u1")
			if len(got) != notify.MaxDevices || slices.Contains(got, "tablet") || !slices.Contains(got, "watch") {
				t.Fatalf("devices %v, want the 9 and the watch", got)
			}
			if counted := deviceIDsOf(t, e, "u1"); !slices.Equal(counted, got) {
				t.Errorf("counted %v, registered %v", counted, got)
			}
		})
	}
}

// At the cap, a device registered again (a token refresh, or another token) is no new device; a removed
// or forgotten device frees its place, and a forget refused for its token frees none.
func TestDeviceCapCountsEachDeviceOnce(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	for i := range notify.MaxDevices {
		if err := st.PutDevice(ctx, "u1", device(fmt.Sprintf("d%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	again := device("d3")
	again.Token = "tok-renewed-bbbbbbbb"
	for _, d := range []notify.Device{device("d3"), again} {
		if err := st.PutDevice(ctx, "u1", d); err != nil {
			t.Fatalf("d3 registered again at the cap: %v", err)
		}
	}
	steps := []struct {
		name   string
		do     func() error
		newErr error // what an 11th device gets afterwards
	}{
		{"at the cap", func() error { return nil }, notify.ErrTooManyDevices},
		{"forget with a stale token", func() error { return st.ForgetDevice(ctx, "u1", "d3", device("d3").Token) }, notify.ErrTooManyDevices},
		{"forget with its token", func() error { return st.ForgetDevice(ctx, "u1", "d3", again.Token) }, nil},
		{"delete", func() error { return st.DeleteDevice(ctx, "u1", "d4") }, nil},
	}
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if err := st.PutDevice(ctx, "u1", device(fmt.Sprintf("new%d", i))); !errors.Is(err, step.newErr) {
			t.Fatalf("%s: a new device: %v, want %v", step.name, err, step.newErr)
		}
		got := registeredIDs(t, st, "u1")
		if counted := deviceIDsOf(t, e, "u1"); !slices.Equal(counted, got) || len(got) > notify.MaxDevices {
			t.Fatalf("%s: counted %v, registered %v", step.name, counted, got)
		}
	}
	if err := st.DeleteDevice(ctx, "u1", "d4"); !errors.Is(err, notify.ErrDeviceNotFound) {
		t.Fatalf("a second delete: %v", err)
	}
}

// The SDK sends a transaction again when its answer is lost (moto runs it again; DynamoDB would answer
// from its ClientRequestToken): a registration counts its device once and a removal frees one place and
// answers success, not device_not_found.
func TestDeviceCountSurvivesALostAnswer(t *testing.T) {
	t.Run("registration", func(t *testing.T) {
		e := newResendEnv(t, "TransactWriteItems")
		ctx := t.Context()
		if err := e.store.PutDevice(ctx, "u1", device("phone")); err != nil {
			t.Fatalf("registration with a lost answer: %v", err)
		}
		e.lost(t)
		if got := deviceIDsOf(t, e, "u1"); !slices.Equal(got, []string{"phone"}) {
			t.Fatalf("counted %v", got)
		}
	})
	t.Run("removal", func(t *testing.T) {
		e := newResendEnv(t, "TransactWriteItems")
		e.inj.SetEnabled(false)
		ctx := t.Context()
		for _, id := range []string{"phone", "tablet"} {
			if err := e.store.PutDevice(ctx, "u1", device(id)); err != nil {
				t.Fatal(err)
			}
		}
		e.inj.SetEnabled(true)
		if err := e.store.DeleteDevice(ctx, "u1", "phone"); err != nil {
			t.Fatalf("removal with a lost answer: %v", err)
		}
		e.lost(t)
		if got, counted := registeredIDs(t, e.plain, "u1"), deviceIDsOf(t, e, "u1"); !slices.Equal(got, []string{"tablet"}) || !slices.Equal(counted, got) {
			t.Fatalf("registered %v, counted %v", got, counted)
		}
	})
}

// Registrations of new devices sent all at once (moto applies requests one at a time, in whatever order
// they arrive): exactly the free places are taken, the others refused, and the count matches the items.
func TestDeviceCapUnderConcurrentRegistrations(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	const have, sent = 4, 12
	for i := range have {
		if err := e.plain.PutDevice(ctx, "u1", device(fmt.Sprintf("d%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, sent)
	var wg sync.WaitGroup
	for i := range sent {
		wg.Go(func() { errs[i] = e.plain.PutDevice(ctx, "u1", device(fmt.Sprintf("new%d", i))) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, notify.ErrTooManyDevices):
			t.Errorf("registration %d: %v", i, err)
		}
	}
	got := registeredIDs(t, e.plain, "u1")
	if ok != notify.MaxDevices-have || len(got) != notify.MaxDevices {
		t.Fatalf("%d of %d registered, %d devices; want %d and %d", ok, sent, len(got), notify.MaxDevices-have, notify.MaxDevices)
	}
	if counted := deviceIDsOf(t, e, "u1"); !slices.Equal(counted, got) {
		t.Errorf("counted %v, registered %v", counted, got)
	}
}
