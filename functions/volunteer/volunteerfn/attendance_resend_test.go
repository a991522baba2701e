package volunteerfn_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Every attendance write is safe to apply twice: the answer of the write is lost (applied, then the
// connection reset), the SDK sends it again, and the request still answers 200 with one effect — one
// attendance, one check-out, one record per revision.
func TestLostAnswersApplyOnce(t *testing.T) {
	h := newAttHarnessWith(t, testenv.Options{CategoriesOnly: true, ExpectRetries: true}, "v1")
	clean := h.fn
	// lose runs do on a function whose first op call's answer is lost, and checks that it was.
	lose := func(op string, do func() response) response {
		t.Helper()
		inj, err := faults.New(faults.Options{Seed: 1, PerTen: 10, Max: 1, Kinds: []faults.Kind{faults.LostResponse},
			Operations: []string{op}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		cfg := h.e.AWS.Copy()
		cfg.HTTPClient = inj.Wrap(cfg.HTTPClient)
		h.fn = h.function(cfg)
		defer func() { h.fn = clean }()
		r := do()
		if st := inj.Stats(); st.Injected[faults.LostResponse] != 1 {
			t.Fatalf("%s: faults %v, want one lost answer", op, st)
		}
		return r
	}
	path := "/v1/activities/" + h.act.ID + "/attendance/v1/"

	h.at(5 * time.Minute)
	in := punch(h.code(h.act.ID), here)
	lose("PutItem", func() response {
		return h.must(200, citizen("v1"), "POST /v1/activities/{id}/checkin", "/v1/activities/"+h.act.ID+"/checkin", in, nil)
	})
	if n := h.items(`"sk":"ATT#v1"`); n != 1 {
		t.Fatalf("%d attendance items", n)
	}

	h.at(time.Hour + 50*time.Minute)
	out := punch(h.code(h.act.ID), here)
	a := attendanceOf(t, lose("UpdateItem", func() response {
		return h.must(200, citizen("v1"), "POST /v1/activities/{id}/checkout", "/v1/activities/"+h.act.ID+"/checkout", out, nil)
	}))
	if got := h.attendance("v1"); got.Minutes != 105 || got.Status != volunteer.Pending || len(got.UsedSteps) != 2 || !got.CheckOutAt.Equal(a.CheckOutAt) {
		t.Fatalf("after the check-out: %+v (answered %+v)", got, a)
	}

	h.at(3 * time.Hour)
	lose("TransactWriteItems", func() response {
		return h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/confirm", path+"confirm", map[string]any{}, nil)
	})
	lose("UpdateItem", func() response {
		return h.must(200, citizen("v1"), "POST /v1/activities/{id}/attendance/me/dispute", "/v1/activities/"+h.act.ID+"/attendance/me/dispute",
			volunteer.DisputeRequest{Reason: "到 12 点", Minutes: 120}, nil)
	})
	lose("TransactWriteItems", func() response {
		return h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/confirm", path+"confirm", map[string]any{"answer": "upheld", "minutes": 120}, nil)
	})
	lose("TransactWriteItems", func() response {
		return h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/revoke", path+"revoke", volunteer.Revocation{Reason: "重复"}, nil)
	})
	var kinds []string
	for _, r := range h.records("v1") {
		kinds = append(kinds, r.Kind)
	}
	if !slices.Equal(kinds, []string{volunteer.RecordConfirmed, volunteer.RecordConfirmed, volunteer.RecordRevoked}) {
		t.Errorf("records %v", kinds)
	}
	if got := h.attendance("v1"); got.Status != volunteer.Revoked || got.Revision != 3 {
		t.Errorf("at the end: %+v", got)
	}
}
