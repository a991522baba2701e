package intakefn_test

import (
	"fmt"
	"testing"
)

// BenchmarkCreateReport files reports with 1 and 3 photos against moto and reports the AWS calls each
// makes (calls/op are exact; ns/op mostly measures moto, not the function).
func BenchmarkCreateReport(b *testing.B) {
	for _, photos := range []int{1, 3} {
		b.Run(fmt.Sprintf("photos=%d", photos), func(b *testing.B) {
			h := newHarness(b)
			img := jpegBytes(b, true)
			h.do(nobody, "GET", "GET /v1/categories", "/v1/categories", nil, nil)
			h.calls.Reset()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				keys := make([]string, photos)
				for p := range photos {
					keys[p] = h.putPending("alice", fmt.Sprintf("0190a2b4-1c2d-7e3f-8a9b-%06d%06d.jpg", i, p), "image/jpeg", img)
				}
				h.calls.Reset()
				b.StartTimer()
				r := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", reportBody("rubbish", keys...), map[string]string{"Idempotency-Key": fmt.Sprint("b", i)})
				if r.Status != 201 {
					b.Fatalf("create: %d %s", r.Status, r.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(h.calls.Service("DynamoDB")), "dynamodb-calls/op")
			b.ReportMetric(float64(h.calls.Service("S3")), "s3-calls/op")
		})
	}
}
