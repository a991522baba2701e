package cost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// TestLifecycleCost runs the cost command's measurement on moto: a warm lifecycle and a quiet one complete
// through the real functions, their calls and units are counted, and the figures README's "Cost" reports
// hold: no more write units than measured there, and a quiet city's aged caches cost small reads (the
// configuration's version item), not Secrets Manager calls or configuration reloads.
func TestLifecycleCost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local stack")
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl := filepath.Join(root, "template.yaml")
	warm, err := Measure(context.Background(), tpl, Scenario{Name: "warm", N: 1})
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := Measure(context.Background(), tpl, Scenario{Name: "quiet", Gap: 10 * time.Minute, N: 1})
	if err != nil {
		t.Fatal(err)
	}
	w, q := warm.Totals(ListPrices), quiet.Totals(ListPrices)
	warm.Print(os.Stdout, ListPrices)
	quiet.Print(os.Stdout, ListPrices)
	// submit, dispatch, notify, accept, proof upload, resolve, accrual, redeem — at least one each; the two
	// photos are the browsers' uploads and nothing else (a checked photo stays where it was uploaded)
	if w.Invocations < 8 || w.API != 6 || w.TableWCU < 10 || w.RCU <= 0 || w.S3Put != 2 {
		t.Errorf("warm lifecycle: %+v", w)
	}
	if wcu := w.TableWCU + w.IndexWCU; wcu > 46 {
		t.Errorf("warm lifecycle: %.1f write units, README's Cost says 46", wcu)
	}
	// 6 HTTP requests, dispatch routing (which posts the dispatched notice), notify, dispatch's accepted
	// notice, accrual, dispatch's pickup notice.
	if w.Invocations > 11 {
		t.Errorf("warm lifecycle: %.0f Lambda invocations, README's Cost says 11", w.Invocations)
	}
	if w.Secrets != 0 || q.Secrets != 0 {
		t.Errorf("secrets read: warm %.0f, quiet %.0f; want none (kept 12 h)", w.Secrets, q.Secrets)
	}
	// An aged configuration cache costs one GetItem of the version item per invocation at most.
	if extra := q.DynamoCalls - w.DynamoCalls; extra <= 0 || extra > q.Invocations {
		t.Errorf("quiet city: %.1f DynamoDB calls (warm %.1f, %.0f invocations): want at most one more per invocation", q.DynamoCalls, w.DynamoCalls, q.Invocations)
	}
	for k := range warm.Lines {
		if strings.Contains(k[1], "$") {
			t.Errorf("presign counted as a call: %v", k)
		}
	}
}
