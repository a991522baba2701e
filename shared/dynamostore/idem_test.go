package dynamostore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// A key claimed by a clock a month behind the wall clock (the local stack's, moved by make demo) is
// still held for that clock's next day: a retry replays instead of creating again. It expires a TTL
// later by the same clock.
func TestClaimKeyJudgesExpiryByTheClaimantsClock(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := t.Context()
	cfg, err := srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(ctx, cfg, "idemclock", motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), res.Tables["Table"].Name, time.UTC)
	then := time.Now().AddDate(0, -1, 0).Truncate(time.Second)
	claim := func(rid string, at time.Time) *idem.Record {
		t.Helper()
		existing, err := store.ClaimKey(ctx, idem.Record{Scope: "report", Owner: "u1", Key: "k", BodyHash: "h", Status: idem.InFlight,
			ResourceID: rid, LockedUntil: at.Add(idem.Lease), ExpiresAt: at.Add(idem.TTL), ClaimedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return existing
	}
	if got := claim("r1", then); got != nil {
		t.Fatalf("first claim met %+v", got)
	}
	if got := claim("r2", then.Add(time.Minute)); got == nil || got.ResourceID != "r1" {
		t.Fatalf("a retry a minute later (by the same clock) met %+v, want r1's claim", got)
	}
	if got := claim("r3", then.Add(idem.TTL+time.Minute)); got != nil {
		t.Fatalf("a claim after the TTL met %+v, want the key free", got)
	}
}
