package intakefn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Idempotent create under faults (issue 10): citizens file reports through the intake function while
// infra/faults fails two DynamoDB calls in ten — transaction conflicts, throttling, answers lost after the
// write was applied (the SDK re-sends) and calls that take until the invocation's deadline. A client sends
// a request again with the same Idempotency-Key after a 5xx (there is no claim, so never a 409
// request_in_flight); now and then it sends a request that already succeeded again, as a client that lost
// the answer does. Some requests are refused
// (a photo that was never uploaded). The run is sequential, so the seed (logged; CIVICSNAP_FAULT_SEED)
// replays it.
//
// Then: each key made exactly one report and every answer for it named that report; every report's
// photos exist (finding 3: no compensation after an unknown outcome); a refused request wrote nothing,
// not even its key; and faults did happen.

const invocationTimeout = time.Second

func newInjector(t *testing.T) *faults.Injector { return faults.ForTest(t, 2) }

func TestIdempotentCreateUnderFaults(t *testing.T) {
	inj := newInjector(t)
	h := newHarnessWith(t, testenv.Options{WrapHTTP: inj.Wrap})
	b := h.e.Base("IntakeFunction", map[string]string{"MAX_UPLOAD_BYTES": fmt.Sprint(maxUpload)}, nil)
	fn, err := intakefn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(inj.Seed(), 3))
	photo := jpegBytes(t, true)
	users := []caller{alice, bob}

	send := func(c caller, key string, body []byte) response {
		req := httptest.NewRequest("POST", "/v1/reports", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		ev := gateway.Event(req, body, "POST /v1/reports", map[string]string{"sub": c.sub, "cognito:groups": c.groups})
		ctx, cancel := context.WithTimeout(context.Background(), invocationTimeout)
		defer cancel()
		resp, err := fn.Handle(ctx, ev)
		if err != nil {
			t.Fatalf("handler error: %v", err)
		}
		b := []byte(resp.Body)
		if resp.IsBase64Encoded {
			b, _ = base64.StdEncoding.DecodeString(resp.Body)
		}
		return response{Status: resp.StatusCode, Header: resp.Headers, Body: b}
	}

	type filed struct {
		sub, key, id string
	}
	var (
		made    []filed
		refused = map[string]string{} // key -> sub
		sends   int
	)
	for i := range 48 { // a create is two DynamoDB calls and a photo check: enough requests for ≥ 100 calls
		c := users[rng.IntN(len(users))]
		key := fmt.Sprintf("fk-%d", i)
		bad := rng.IntN(8) == 0
		var keys []string
		for n := range 1 + rng.IntN(2) {
			keys = append(keys, h.putPending(c.sub, fmt.Sprintf("00000000-0000-4000-8000-%012d.jpg", i*10+n), "image/jpeg", photo))
		}
		if bad {
			keys = append(keys, h.uploadKey(fmt.Sprintf("00000000-0000-4000-9000-%012d.jpg", i))) // never uploaded
		}
		body := reportBody("rubbish", keys...)
		again := rng.IntN(4) == 0 // the client lost the first answer and sends once more
		var id string
		for try := 0; ; try++ {
			if try == 20 {
				t.Fatalf("%s: no answer after %d sends", key, try)
			}
			sends++
			r := send(c, key, body)
			switch {
			case r.Status == 201:
				var got report.Report
				r.json(t, &got)
				if id != "" && got.ID != id {
					t.Errorf("%s answered report %s, then %s", key, id, got.ID)
				}
				id = got.ID
				if again {
					again = false
					continue
				}
			case r.Status == 500:
				t.Errorf("%s: %d %s", key, r.Status, r.Body)
				continue
			case r.Status >= 500:
				if r.Header["Retry-After"] == "" {
					t.Errorf("%s: %d without Retry-After", key, r.Status)
				}
				continue
			case bad && r.Status == 400 && r.code(t) == "photo_not_found":
				refused[key] = c.sub
			default:
				t.Errorf("%s: %d %s", key, r.Status, r.Body)
			}
			break
		}
		if bad && id != "" {
			t.Errorf("%s (a photo never uploaded) was filed as %s", key, id)
		}
		if id != "" {
			made = append(made, filed{c.sub, key, id})
		}
	}

	// Exactly one report per key, and none that nobody was told about.
	ctx := context.Background()
	byID := map[string]filed{}
	recorded := map[string]bool{} // "<key> <version id>" of every report's photo
	for _, f := range made {
		byID[f.id] = f
		if want := report.ReportID(f.sub, f.key); f.id != want {
			t.Errorf("%s: answered report %s, want the key's %s", f.key, f.id, want)
		}
		r, err := h.e.Store.GetReport(ctx, f.id)
		if err != nil {
			t.Errorf("%s: report %s: %v", f.key, f.id, err)
			continue
		}
		for _, p := range r.Photos {
			recorded[p.Key+" "+p.VersionID] = true
			if _, err := h.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &h.bucket, Key: &p.Key, VersionId: &p.VersionID}); err != nil {
				t.Errorf("report %s: photo %s version %s is gone: %v", f.id, p.Key, p.VersionID, err)
			}
		}
	}
	items, objects := h.written()
	reports := 0
	for _, k := range items {
		if strings.HasPrefix(k, "REPORT#") && strings.HasSuffix(k, " REPORT") {
			reports++
			if _, ok := byID[strings.TrimSuffix(strings.TrimPrefix(k, "REPORT#"), " REPORT")]; !ok {
				t.Errorf("%s exists but no request was answered with it", k)
			}
		}
	}
	if reports != len(made) {
		t.Errorf("%d reports in the table for %d keys answered 201", reports, len(made))
	}
	// A refused request wrote nothing: no key, no report photos of its own.
	for key, sub := range refused {
		if f, err := h.e.Store.FiledReport(ctx, report.ReportID(sub, key)); err != nil || f != nil {
			t.Errorf("refused %s left its report: %+v (%v)", key, f, err)
		}
	}
	// Every version a request wrote (a stripped photo) is a report's, but for those of attempts whose write
	// had an unknown outcome: the request sent again wrote a version of its own (a version a check wrote is
	// that request's to delete if refused, so no other records it), and the earlier one is left to the
	// photo sweeper — always at a key a report records. A refused request removed its own.
	recordedKeys := map[string]bool{}
	for o := range recorded {
		recordedKeys[strings.Fields(o)[0]] = true
	}
	stray := 0
	for _, o := range objects {
		if !recorded[o] {
			stray++
			if !recordedKeys[strings.Fields(o)[0]] {
				t.Errorf("version %s belongs to no report, nor is it of a photo a report records", o)
			}
		}
	}
	st := inj.Stats()
	if st.Calls < 100 || st.Faulted() < st.Calls/10 {
		t.Errorf("faults: %v; want ≥ 100 calls and ≥ 1 in 10 faulted", st)
	}
	t.Logf("%d reports filed, %d refused, %d sends; %d versions left to the photo sweeper", len(made), len(refused), sends, stray)
}
