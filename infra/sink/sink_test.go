package sink

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSinkRecordsAndFails(t *testing.T) {
	s := New()
	mux := http.NewServeMux()
	for p, h := range s.Routes() {
		mux.Handle(p, h)
	}
	post := func() int {
		req := httptest.NewRequest("POST", "/_local/sink/d1", strings.NewReader(`{"a":"<&>"}`))
		req.Header.Set("webhook-id", "msg_1")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	arm := httptest.NewRecorder()
	mux.ServeHTTP(arm, httptest.NewRequest("PUT", "/_local/sink/d1?fail=2", nil))
	if arm.Code != 200 {
		t.Fatalf("arm = %d", arm.Code)
	}
	got := []int{post(), post(), post()}
	if got[0] != 503 || got[1] != 503 || got[2] != 200 {
		t.Errorf("statuses = %v, want 503 503 200", got)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/_local/sink/d1", nil))
	var out struct {
		Items    []Delivery
		FailNext int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 3 || out.Items[2].Body != `{"a":"<&>"}` || out.Items[2].Headers["webhook-id"] != "msg_1" || out.FailNext != 0 {
		t.Errorf("listed %+v", out)
	}
	bad := httptest.NewRecorder()
	mux.ServeHTTP(bad, httptest.NewRequest("GET", "/_local/sink/d1?fail=x", nil))
	if bad.Code != 400 {
		t.Errorf("bad fail = %d", bad.Code)
	}
}
