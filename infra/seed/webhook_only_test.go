package seed

import (
	"slices"
	"testing"

	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
)

// The departments that only receive webhooks — the credit platform (credit conversions) and the national
// volunteer service system (service records, issue 15) — are seeded with a webhook and a signing secret,
// and no seeded rule routes a report to them, as lead, assistant or escalation.
func TestWebhookOnlyDepartmentsGetNoReports(t *testing.T) {
	only := []string{market.CreditPlatform, points.VolunteerRegistry}
	depts, err := Departments()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range depts {
		if slices.Contains(only, d.ID) {
			seen++
			if d.WebhookURL == "" || d.LocalSecret == "" || d.NameZH == "" {
				t.Errorf("%s: seeded without a webhook, a secret or a name: %+v", d.ID, d)
			}
		}
	}
	if seen != len(only) {
		t.Errorf("%d of %v seeded", seen, only)
	}
	rules, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if slices.Contains(only, r.Lead) || slices.Contains(only, r.Escalation) || slices.ContainsFunc(r.Assists, func(a string) bool { return slices.Contains(only, a) }) {
			t.Errorf("rule %s routes to a webhook-only department: %+v", r.ID, r)
		}
	}
}
