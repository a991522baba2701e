package stack

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

func TestCreateRepoTemplate(t *testing.T) {
	ctx := t.Context()
	srv := motoserver.ForTest(t)
	cfg, err := srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := loadRepoTemplate(t)

	res, err := tmpl.Create(ctx, cfg, "it", motoserver.S3Options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	again, err := tmpl.Create(ctx, cfg, "it", motoserver.S3Options)
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if !reflect.DeepEqual(res.Tables, again.Tables) || !reflect.DeepEqual(res.Buckets, again.Buckets) {
		t.Errorf("second Create returned other resources:\n%+v\n%+v", res, again)
	}
	if len(res.Skipped) > 0 {
		t.Logf("moto skipped: %v", res.Skipped)
	}

	db := dynamodb.NewFromConfig(cfg)
	t.Run("table", func(t *testing.T) {
		info := res.Tables["Table"]
		if info.Name != "it-table" || info.StreamARN == "" {
			t.Fatalf("Tables[Table] = %+v", info)
		}
		desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(info.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := keyStrings(desc.Table.KeySchema), []string{"pk:HASH", "sk:RANGE"}; !slices.Equal(got, want) {
			t.Errorf("key schema = %v, want %v", got, want)
		}
		var gsis []string
		want := map[string]Index{}
		for _, ix := range tmpl.Tables["Table"].GlobalSecondaryIndexes {
			want[ix.Name] = ix
		}
		for _, g := range desc.Table.GlobalSecondaryIndexes {
			name := aws.ToString(g.IndexName)
			gsis = append(gsis, name)
			// The projection is the template's (gsi1 ALL; gsi2-4 INCLUDE with their lists), so local
			// queries return what deployed ones do.
			w := want[name]
			if g.Projection == nil || string(g.Projection.ProjectionType) != w.ProjectionType ||
				!slices.Equal(slices.Sorted(slices.Values(g.Projection.NonKeyAttributes)), slices.Sorted(slices.Values(w.NonKeyAttributes))) {
				t.Errorf("index %s projection = %+v, want %s %v", name, g.Projection, w.ProjectionType, w.NonKeyAttributes)
			}
		}
		if want["gsi1"].ProjectionType != "ALL" || want["gsi3"].ProjectionType != "INCLUDE" || want["gsi5"].ProjectionType != "KEYS_ONLY" {
			t.Errorf("template projections: gsi1 %s, gsi3 %s, gsi5 %s; want ALL, INCLUDE, KEYS_ONLY",
				want["gsi1"].ProjectionType, want["gsi3"].ProjectionType, want["gsi5"].ProjectionType)
		}
		slices.Sort(gsis)
		if want := []string{"gsi1", "gsi2", "gsi3", "gsi4", "gsi5", "gsi6"}; !slices.Equal(gsis, want) {
			t.Errorf("GSIs = %v, want %v", gsis, want)
		}
		if s := desc.Table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages {
			t.Errorf("stream = %+v, want NEW_AND_OLD_IMAGES", s)
		}
		if got := aws.ToString(desc.Table.LatestStreamArn); got != info.StreamARN {
			t.Errorf("StreamARN = %q, table says %q", info.StreamARN, got)
		}
		if desc.Table.BillingModeSummary == nil || desc.Table.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
			t.Errorf("billing = %+v, want PAY_PER_REQUEST", desc.Table.BillingModeSummary)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(info.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "ttl" || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
			t.Errorf("ttl = %+v, want ttl ENABLED", d)
		}
	})

	blobs := s3.NewFromConfig(cfg, motoserver.S3Options)
	t.Run("bucket", func(t *testing.T) {
		info := res.Buckets["PhotoBucket"]
		if info.Name != "it-photobucket" || info.ARN != "arn:aws:s3:::it-photobucket" {
			t.Fatalf("Buckets[PhotoBucket] = %+v", info)
		}
		lc, err := blobs.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(info.Name)})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range lc.Rules {
			if r.Filter != nil && aws.ToString(r.Filter.Prefix) == "uploads/pending/" && r.Expiration != nil && aws.ToInt32(r.Expiration.Days) == 1 {
				found = true
			}
		}
		if !found {
			t.Errorf("no rule expiring uploads/pending/ after 1 day: %+v", lc.Rules)
		}
		cors, err := blobs.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(info.Name)})
		if err != nil {
			t.Fatal(err)
		}
		allowsPost := false
		for _, r := range cors.CORSRules {
			if slices.Contains(r.AllowedMethods, "POST") && len(r.AllowedOrigins) > 0 {
				allowsPost = true
			}
		}
		if !allowsPost {
			t.Errorf("no CORS rule allowing POST: %+v", cors.CORSRules)
		}
		pab, err := blobs.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(info.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if c := pab.PublicAccessBlockConfiguration; c == nil || !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.RestrictPublicBuckets) {
			t.Errorf("public access block = %+v", c)
		}
	})

	t.Run("environment", func(t *testing.T) {
		env, unresolved := res.Environment(tmpl.Functions["IntakeFunction"])
		want := map[string]string{
			"TABLE_NAME":       "it-table",
			"BUCKET_NAME":      "it-photobucket",
			"CITY_TZ":          "Asia/Shanghai",
			"CITY_BBOX":        "23.20,103.15,23.60,103.60",
			"MAX_UPLOAD_BYTES": "10485760",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("env[%s] = %q, want %q", k, env[k], v)
			}
		}
		if len(unresolved) > 0 {
			t.Logf("unresolved (not created locally): %v", unresolved)
		}
	})
}

func TestCreateQueues(t *testing.T) {
	ctx := t.Context()
	srv := motoserver.ForTest(t)
	cfg, err := srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Parse([]byte(eventsTemplate))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Create(ctx, cfg, "q", motoserver.S3Options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	q := sqs.NewFromConfig(cfg)

	if _, ok := res.Queues["ProdOnlyQueue"]; ok {
		t.Error("ProdOnlyQueue created although its condition IsProd is false")
	}
	if got := res.Queues["OrderedQueue"].Name; got != "q-orderedqueue.fifo" {
		t.Errorf("FIFO queue name = %q, want q-orderedqueue.fifo", got)
	}
	if arn, ok := res.Resolve(tmpl.Functions["DispatchFunction"].StreamEvents[0].Stream); !ok || arn != res.Tables["Table"].StreamARN {
		t.Errorf("stream event resolves to %q, %v; want the table's stream ARN", arn, ok)
	}

	attrs := func(t *testing.T, id string) map[string]string {
		t.Helper()
		out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(res.Queues[id].URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("attributes of %s: %v", id, err)
		}
		return out.Attributes
	}
	main := attrs(t, "OutboxQueue")
	var redrive struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(main["RedrivePolicy"]), &redrive); err != nil {
		t.Fatalf("RedrivePolicy %q: %v", main["RedrivePolicy"], err)
	}
	if redrive.DeadLetterTargetArn != res.Queues["OutboxDLQ"].ARN || !strings.Contains(main["RedrivePolicy"], "5") {
		t.Errorf("RedrivePolicy = %s, want the DLQ %s after 5 receives", main["RedrivePolicy"], res.Queues["OutboxDLQ"].ARN)
	}
	if main["VisibilityTimeout"] != "60" || main["MessageRetentionPeriod"] != "1209600" {
		t.Errorf("VisibilityTimeout, MessageRetentionPeriod = %s, %s", main["VisibilityTimeout"], main["MessageRetentionPeriod"])
	}
	if fifo := attrs(t, "OrderedQueue"); fifo["FifoQueue"] != "true" || fifo["ContentBasedDeduplication"] != "true" {
		t.Errorf("OrderedQueue attributes = %v", fifo)
	}

	// The template changes; creating again updates the existing queue instead of failing.
	changed := 90
	outbox := tmpl.Queues["OutboxQueue"]
	outbox.VisibilityTimeout = &changed
	tmpl.Queues["OutboxQueue"] = outbox
	again, err := tmpl.Create(ctx, cfg, "q", motoserver.S3Options)
	if err != nil {
		t.Fatalf("Create after change: %v", err)
	}
	if !reflect.DeepEqual(again.Queues, res.Queues) {
		t.Errorf("queues after second Create = %+v, want %+v", again.Queues, res.Queues)
	}
	if got := attrs(t, "OutboxQueue")["VisibilityTimeout"]; got != "90" {
		t.Errorf("VisibilityTimeout after update = %s, want 90", got)
	}
}

func TestCreateRejects(t *testing.T) {
	tests := []struct {
		name, prefix string
	}{
		{name: "upper case", prefix: "Dev"},
		{name: "leading hyphen", prefix: "-dev"},
		{name: "underscore", prefix: "dev_1"},
		{name: "too long", prefix: strings.Repeat("a", 41)},
	}
	tmpl := &Template{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No server needed: the prefix is checked before any request.
			if _, err := tmpl.Create(t.Context(), aws.Config{}, tt.prefix); err == nil {
				t.Errorf("Create with prefix %q: want error", tt.prefix)
			}
		})
	}
}

func TestCreateSchemaConflict(t *testing.T) {
	ctx := t.Context()
	srv := motoserver.ForTest(t)
	cfg, err := srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := loadRepoTemplate(t)
	if _, err := tmpl.Create(ctx, cfg, "sc", motoserver.S3Options); err != nil {
		t.Fatal(err)
	}
	tbl := tmpl.Tables["Table"]
	// A change CreateTable would accept but that an existing table cannot silently absorb.
	tbl.StreamViewType = "KEYS_ONLY"
	tmpl.Tables["Table"] = tbl
	_, err = tmpl.Create(ctx, cfg, "sc", motoserver.S3Options)
	if err == nil || !strings.Contains(err.Error(), "another schema") {
		t.Errorf("Create with a changed table = %v, want a schema error", err)
	}
}
