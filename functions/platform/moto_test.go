package platform_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/functions/platform/secrets"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/blobstore"
	"github.com/civicsnap/civicsnap/shared/queue"
	"github.com/civicsnap/civicsnap/shared/report"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// TestFromEnvAgainstMoto builds a function's Base as main does — the AWS configuration from the variables
// Lambda sets, AWS_ENDPOINT_URL pointing at moto — and reaches each service with the clients the
// platform packages build from it.
func TestFromEnvAgainstMoto(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	fnEnv := e.FuncEnv("DepartmentsFunction", nil)
	env := func(k string) string {
		switch k {
		case "AWS_REGION":
			return e.AWS.Region
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY":
			return "test"
		case "AWS_ENDPOINT_URL":
			return aws.ToString(e.AWS.BaseEndpoint)
		}
		return fnEnv(k)
	}
	ctx := context.Background()
	b, err := platform.FromEnv(ctx, env, "departments")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(b.Table)}); err != nil {
		t.Errorf("DynamoDB: %v", err)
	}
	// An empty dead-letter queue: one ReceiveMessage, nothing moved.
	if moved, err := queue.Redrive(ctx, queues.Client(b), e.DLQURL, e.OutboxURL, 10); err != nil || moved != 0 {
		t.Errorf("SQS: moved %d, %v", moved, err)
	}
	store, err := blobstore.New(b.AWS, e.Bucket, env("S3_PATH_STYLE") == "true")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ListVersions(ctx, "nothing/", func([]report.PhotoVersion) error { return nil }); err != nil {
		t.Errorf("S3: %v", err)
	}
	if len(e.DeptSecrets) == 0 {
		t.Fatal("the seed holds no department secret")
	}
	for id, want := range e.DeptSecrets {
		got, err := secrets.Store(b).Secret(ctx, e.SecretPrefix+"/dept/"+id)
		if err != nil || got != want {
			t.Errorf("Secrets Manager: %s: %q, %v; want the seeded secret", id, got, err)
		}
		break
	}
	if _, err := photos.Reports(b); err != nil {
		t.Errorf("photos.Reports: %v", err)
	}
}
