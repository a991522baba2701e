package dispatchfn_test

import (
	"testing"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/report"
)

// BenchmarkDispatch dispatches new reports (lead + assist, no duplicate nearby) one stream record at a time
// against moto and reports the AWS calls each makes (calls/op are exact averages; ns/op mostly measures
// moto, not the function). The configuration cache is warm, as in a busy container.
func BenchmarkDispatch(b *testing.B) {
	f := newFixture(b)
	_, warm := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, -5000, 0)})
	f.handle(warm)
	f.Calls.Reset()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		// 200 m apart on a grid: never a duplicate of an earlier one.
		_, rec := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, float64(200*(i/50)), float64(200*(i%50)))})
		b.StartTimer()
		if failed := testenv.Failed(f.handle(rec)); len(failed) > 0 {
			b.Fatalf("failures %v", failed)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(f.Calls.Service("DynamoDB"))/float64(b.N), "dynamodb-calls/op")
	b.ReportMetric(float64(f.Calls.Service("SQS"))/float64(b.N), "sqs-calls/op")
}
