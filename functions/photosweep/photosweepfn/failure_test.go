package photosweepfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/photosweep/photosweepfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/report"
)

// clientFunc is an aws.HTTPClient from a function (the fault a test puts between the function and moto).
type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, contentType, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
}

// sweepAt builds the photo sweep at 03:00 two days after now, on e's counted configuration, logging to log.
func sweepAt(t *testing.T, e *testenv.Env, log *bytes.Buffer) (*photosweepfn.Function, []string) {
	t.Helper()
	d := time.Now().In(e.TZ)
	at := time.Date(d.Year(), d.Month(), d.Day()+2, 3, 0, 0, 0, e.TZ)
	base := e.Base("PhotoSweepFunction", nil, slog.New(slog.NewJSONHandler(log, nil)))
	base.Now = func() time.Time { return at }
	fn, err := photosweepfn.New(base)
	if err != nil {
		t.Fatal(err)
	}
	return fn, report.NewPhotoSweeper(nil, nil, e.TZ, base.Now).Due()
}

// TestSweepStopsAtAFailureThatIsNotTheDays: when the table or the bucket refuses or does not answer, a run
// stops at the first due day (one call, as the cold-start stub sees it) instead of making the same failing
// calls for every day; the error is returned, so the scheduler retries.
func TestSweepStopsAtAFailureThatIsNotTheDays(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func() *http.Response
	}{
		{"refused", func() *http.Response {
			return answer(400, "application/x-amz-json-1.0", `{"__type":"com.amazon.coral.validate#ValidationException","message":"refused"}`)
		}},
		{"access denied", func() *http.Response {
			return answer(400, "application/x-amz-json-1.0", `{"__type":"com.amazon.coral.service#AccessDeniedException","message":"no"}`)
		}},
		{"unavailable (retried by the SDK, then given up)", func() *http.Response {
			return answer(500, "application/x-amz-json-1.0", `{"__type":"com.amazon.coral.service#InternalServerError","message":"down"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := moto.New(t, testenv.Options{CategoriesOnly: true, WrapHTTP: func(aws.HTTPClient) aws.HTTPClient {
				return clientFunc(func(r *http.Request) (*http.Response, error) {
					_, _ = io.Copy(io.Discard, r.Body)
					return tc.answer(), nil
				})
			}})
			var log bytes.Buffer
			fn, days := sweepAt(t, e, &log)
			e.Calls.Reset()
			if err := fn.Handle(context.Background(), json.RawMessage(`{}`)); err == nil {
				t.Fatal("Handle succeeded although every call failed")
			}
			if calls := e.Calls.Snapshot(); len(calls) != 1 || calls["DynamoDB.Query"] != 1 {
				t.Errorf("calls %v, want the first day's first Query only", calls)
			}
			if n := strings.Count(log.String(), `"msg":"photo sweep failed"`); n != 1 || !strings.Contains(log.String(), days[0]) ||
				!strings.Contains(log.String(), `"notTried":["`+days[1]+`","`+days[2]+`"]`) {
				t.Errorf("log %s: want one failure, of %s, naming %v as not tried", log.String(), days[0], days[1:])
			}
		})
	}
}

// TestSweepGoesOnAfterADaysOwnFailure: S3 refusing to delete a version of one day (DeleteObjects answers 200
// with an error for the key) fails that day's sweep, and the later days are still swept.
func TestSweepGoesOnAfterADaysOwnFailure(t *testing.T) {
	ctx := context.Background()
	var refuse string // the upload prefix of the day whose deletions S3 refuses
	e := moto.New(t, testenv.Options{CategoriesOnly: true, WrapHTTP: func(next aws.HTTPClient) aws.HTTPClient {
		return clientFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method != http.MethodPost || !r.URL.Query().Has("delete") {
				return next.Do(r)
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			var del struct {
				Objects []struct{ Key, VersionId string } `xml:"Object"`
			}
			if err := xml.Unmarshal(body, &del); err != nil || len(del.Objects) == 0 || !strings.HasPrefix(del.Objects[0].Key, refuse) {
				r.Body = io.NopCloser(bytes.NewReader(body))
				return next.Do(r)
			}
			o := del.Objects[0]
			return answer(200, "application/xml", `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+
				`<Error><Key>`+o.Key+`</Key><VersionId>`+o.VersionId+`</VersionId><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>`), nil
		})
	}})
	var log bytes.Buffer
	fn, days := sweepAt(t, e, &log)
	refuse = report.UploadDayPrefix(days[0])
	for _, day := range days {
		key := report.UploadDayPrefix(day) + "abandoned.jpg"
		if _, err := e.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.Bucket, Key: &key, Body: bytes.NewReader([]byte("jpeg")), ContentType: aws.String("image/jpeg")}); err != nil {
			t.Fatal(err)
		}
	}
	e.Calls.Reset()
	err := fn.Handle(ctx, json.RawMessage(`{}`))
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Handle: %v, want the first day's refused deletion", err)
	}
	versions := versionsOf(t, e)
	for i, day := range days {
		left := versions[report.UploadDayPrefix(day)+"abandoned.jpg"]
		if want := i == 0; (len(left) > 0) != want {
			t.Errorf("day %s: versions %v left, want the upload left only on the day S3 refused (%s)", day, left, days[0])
		}
	}
	if calls := e.Calls.Snapshot(); calls["S3.ListObjectVersions"] != 3 || calls["S3.DeleteObjects"] != 3 {
		t.Errorf("calls %v, want each day listed and its abandoned upload deleted", calls)
	}
	if n := strings.Count(log.String(), `"msg":"photos swept"`); n != 2 {
		t.Errorf("%d days logged as swept, want 2: %s", n, log.String())
	}
}
