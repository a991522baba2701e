package smoke

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// TestTriggerFixtures checks the stream, queue and schedule fixtures decode strictly into the events their
// functions receive, and that their contents are what the handlers expect (a report image, a notification).
func TestTriggerFixtures(t *testing.T) {
	strict := func(t *testing.T, file string, v any) {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	var stream events.DynamoDBEvent
	strict(t, "dispatch/new-report.json", &stream)
	if len(stream.Records) != 1 {
		t.Fatalf("dispatch fixture has %d records", len(stream.Records))
	}
	r, err := dynamostore.ReportFromImage(streamfn.Image(stream.Records[0].Change.NewImage))
	if err != nil || r.Status != "submitted" || r.Category != "rubbish" || len(r.Photos) != 1 {
		t.Errorf("dispatch fixture's report = %+v, %v", r, err)
	}

	var sqs events.SQSEvent
	strict(t, "notify/notification.json", &sqs)
	var n dispatch.Notification
	if err := json.Unmarshal([]byte(sqs.Records[0].Body), &n); err != nil || n.ID == "" || n.Dept != "sanitation" {
		t.Errorf("notify fixture's notification = %+v, %v", n, err)
	}

	for _, f := range []string{"kpi/yesterday.json", "kpi/backfill.json"} {
		var in struct{ Day, From, To string }
		strict(t, f, &in)
	}
	var sched map[string]any
	strict(t, "sweeper/scheduled.json", &sched)
}
