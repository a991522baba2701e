package buildersfn_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/builders"
)

// H1's writes are safe to apply twice: each one's answer is lost (applied, then the connection reset), the
// SDK sends it again, the second copy meets its own first, and the request still answers success with one
// effect — one employer and claim, one employer_verified record, one report counted, one profile with its
// entries, nothing after an opt-out.
func TestEmployerLostAnswersApplyOnce(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true, ExpectRetries: true})
	build := func(cfg aws.Config) *buildersfn.Function {
		fn, err := buildersfn.New(e.BaseOn(cfg, "BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return fn
	}
	h := &harness{e: e, t: t, fn: build(e.AWS)}
	clean := h.fn
	lose := func(op string, do func()) {
		t.Helper()
		inj, err := faults.New(faults.Options{Seed: 1, PerTen: 10, Max: 1, Kinds: []faults.Kind{faults.LostResponse},
			Operations: []string{op}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.AWS.Copy()
		cfg.HTTPClient = inj.Wrap(cfg.HTTPClient)
		h.fn = build(cfg)
		defer func() { h.fn = clean }()
		do()
		if st := inj.Stats(); st.Injected[faults.LostResponse] != 1 {
			t.Fatalf("%s: faults %v, want one lost answer", op, st)
		}
	}

	lose("TransactWriteItems", func() {
		h.must(200, citizen("boss1"), "PUT /v1/me/employer", "/v1/me/employer", employerBody(1), nil)
	})
	lose("TransactWriteItems", func() {
		h.must(200, admin, "POST /v1/admin/employers/{sub}/verify", "/v1/admin/employers/boss1/verify", map[string]any{}, nil)
	})
	lose("TransactWriteItems", func() {
		h.must(200, citizen("c1"), "POST /v1/employers/{sub}/reports", "/v1/employers/boss1/reports", map[string]any{"reason": "拖欠"}, nil)
	})
	lose("TransactWriteItems", func() {
		h.must(200, citizen("w1"), "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "bricklayer", "tiler"), nil)
	})
	d := h.dump()
	for _, c := range []struct {
		pk, sk string
		want   int
	}{
		{"EMPLOYER#boss1", "PROFILE", 1}, {"LICENCE#" + licence(1), "LICENCE", 1},
		{"BLDREC#employer_verified#boss1", "BLDREC", 1}, {"EMPLOYER#boss1", "REPORT#", 1},
		{"WORKER#w1", "PROFILE", 1}, {"WORKER#w1", "TRADE#", 2},
	} {
		if got := items(d, c.pk, c.sk); len(got) != c.want {
			t.Errorf("%s %s: %d items, want %d", c.pk, c.sk, len(got), c.want)
		}
	}
	var pub builders.PublicEmployer
	h.must(200, citizen("c1"), "GET /v1/employers/{sub}", "/v1/employers/boss1", nil, nil).decode(t, &pub)
	if pub.Reports != 1 || pub.Status != builders.EmployerVerified {
		t.Errorf("employer after lost answers: %+v", pub)
	}
	lose("TransactWriteItems", func() {
		h.must(204, citizen("w1"), "DELETE /v1/me/worker", "/v1/me/worker", nil, nil)
	})
	if got := items(h.dump(), "WORKER#w1", ""); len(got) != 0 {
		t.Errorf("after a lost opt-out: %v", got)
	}
}
