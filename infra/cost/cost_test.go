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
// through the real functions, their calls and units are counted, and the quiet city pays for its cold
// caches (configuration re-read, secrets fetched) where the warm one does not.
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
	// submit, dispatch, notify, accept, proof upload, resolve, accrual, redeem — at least one each
	if w.Invocations < 8 || w.API != 6 || w.TableWCU < 10 || w.RCU <= 0 || w.S3Put < 4 {
		t.Errorf("warm lifecycle: %+v", w)
	}
	if w.Secrets != 0 {
		t.Errorf("warm caches read %.0f secrets", w.Secrets)
	}
	if q.Secrets == 0 || q.RCU <= w.RCU {
		t.Errorf("quiet city: %.0f secret reads, %.1f RCU (warm %.1f): its caches should be cold", q.Secrets, q.RCU, w.RCU)
	}
	for k := range warm.Lines {
		if strings.Contains(k[1], "$") {
			t.Errorf("presign counted as a call: %v", k)
		}
	}
}
